from django.urls import path

from .views import applicant, auth, more, public

app_name = "web"

urlpatterns = [
    path("", public.home, name="home"),
    path("status/", public.status, name="status"),
    path("addresses/", public.address_lookup_page, name="address_lookup"),
    path("language/", public.language, name="language"),
    path("login/", auth.login_pin, name="login"),
    path("login/code/", auth.login_code, name="login_code"),
    path("logout/", auth.logout_view, name="logout"),
    path("children/", applicant.children, name="children"),
    path("children/<int:child_id>/schools/", applicant.child_schools, name="child_schools"),
    path("applications/", applicant.applications, name="applications"),
    path("applications/new/", applicant.register, name="register"),
    path("applications/<uuid:application_id>/", applicant.application, name="application"),
    path(
        "applications/<uuid:application_id>/cancel/",
        applicant.application_cancel_view,
        name="cancel",
    ),
    path("drafts/", more.draft_save_view, name="draft_save"),
    path("drafts/<int:child_id>/submit/", more.draft_submit_view, name="draft_submit"),
    path("drafts/<int:child_id>/delete/", more.draft_delete_view, name="draft_delete"),
    path(
        "children/<int:child_id>/schools/<int:school_id>/request-address/",
        more.request_address,
        name="request_address",
    ),
    path("children/<int:child_id>/act/", more.guardian_act, name="guardian_act"),
    path("appeals/", more.appeals, name="appeals"),
]
