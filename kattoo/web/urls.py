from django.urls import path

from .views import applicant, auth, public

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
]
