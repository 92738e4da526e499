from django.urls import include, path

from .views import (
    after_admission,
    applicant,
    auth,
    documents,
    more,
    open_data,
    public,
    receipts,
    staff_audit,
    staff_auth,
    staff_campaigns,
    staff_catalog,
    staff_district,
    staff_district_above_quota,
    staff_district_appeals,
    staff_district_commission,
    staff_fraud,
    staff_ministry,
    staff_people,
    staff_readiness,
    staff_school,
    staff_school_children,
)
from .views import help as help_views
from .views import sessions as session_views
from .views import waitlist as waitlist_views

app_name = "web"

school = staff_school
children = staff_school_children
district = staff_district
ministry = staff_ministry
APPLICATION = "school/applications/<uuid:application_id>"

# The portals of schools, district offices and the ministry (web:staff:…).
staff_patterns = [
    path("", staff_auth.staff_home, name="home"),
    path("login/", staff_auth.staff_login, name="login"),
    path("logout/", staff_auth.staff_logout, name="logout"),
    path("sessions/", session_views.staff_sessions, name="sessions"),
    path("school/", school.school_overview, name="school"),
    path("school/quota/", school.school_quota, name="school_quota"),
    path("school/quota/confirm/", school.school_quota_confirm, name="school_quota_confirm"),
    path("school/children/", children.school_children, name="school_children"),
    path(f"{APPLICATION}/", children.school_application, name="school_application"),
    path(f"{APPLICATION}/admit/", children.application_admit_view, name="school_admit"),
    path(f"{APPLICATION}/refuse/", children.application_refuse_view, name="school_refuse"),
    path(
        f"{APPLICATION}/certificates/",
        children.application_document_view,
        name="school_certificate",
    ),
    path(
        f"{APPLICATION}/documents-request/",
        children.application_request_view,
        name="school_documents_request",
    ),
    path(f"{APPLICATION}/pmpk/", children.application_pmpk_view, name="school_pmpk"),
    path(
        f"{APPLICATION}/pmpk/outcome/",
        children.application_pmpk_outcome_view,
        name="school_pmpk_outcome",
    ),
    path(
        f"{APPLICATION}/acts/<int:act_id>/review/",
        children.application_act_review_view,
        name="school_act_review",
    ),
    path(
        f"{APPLICATION}/acts/<int:act_id>/file/",
        children.application_act_file,
        name="school_act_file",
    ),
    path("school/addresses/", school.school_addresses, name="school_addresses"),
    path(
        "school/addresses/requests/<int:request_id>/add/",
        school.school_request_add,
        name="school_request_add",
    ),
    path(
        "school/addresses/requests/<int:request_id>/reject/",
        school.school_request_reject,
        name="school_request_reject",
    ),
    path("school/teachers/", school.school_teachers, name="school_teachers"),
    path(
        "school/teachers/<int:teacher_id>/remove/",
        school.school_teacher_remove,
        name="school_teacher_remove",
    ),
    path("school/classes/", school.school_classes, name="school_classes"),
    path("school/classes/classes.xlsx", school.school_classes_xlsx, name="school_classes_xlsx"),
    path("school/classes/classes.pdf", school.school_classes_pdf, name="school_classes_pdf"),
    path("school/kundoluk.csv", school.school_kundoluk_csv, name="school_kundoluk_csv"),
    path(
        "schools/<int:school_id>/waitlist/",
        waitlist_views.staff_waitlist,
        name="waitlist",
    ),
    path("district/", district.district_schools, name="district"),
    path("district/schools/<int:school_id>/", district.district_school, name="district_school"),
    path(
        "district/schools/<int:school_id>/verify/",
        district.district_school_verify,
        name="district_school_verify",
    ),
    path(
        "district/schools/<int:school_id>/approve/",
        district.district_quota_approve,
        name="district_approve",
    ),
    path("district/commission/", district.district_commission, name="district_commission"),
    path(
        "district/commission/<int:decision_id>/link/",
        staff_district_commission.district_commission_link,
        name="district_commission_link",
    ),
    path(
        "district/above-quota/",
        staff_district_above_quota.district_above_quota,
        name="district_above_quota",
    ),
    path(
        "district/teachers/<int:addition_id>/approve/",
        staff_district_above_quota.district_teacher_approve,
        name="district_teacher_approve",
    ),
    path(
        "district/teachers/<int:addition_id>/reject/",
        staff_district_above_quota.district_teacher_reject,
        name="district_teacher_reject",
    ),
    path("district/appeals/", district.district_appeals, name="district_appeals"),
    path(
        "district/appeals/<int:appeal_id>/",
        staff_district_appeals.district_appeal,
        name="district_appeal",
    ),
    path(
        "district/appeals/<int:appeal_id>/reinstate/",
        staff_district_appeals.district_appeal_reinstate,
        name="district_appeal_reinstate",
    ),
    path(
        "district/appeals/<int:appeal_id>/reject/",
        staff_district_appeals.district_appeal_reject,
        name="district_appeal_reject",
    ),
    path(
        "district/appeals/<int:appeal_id>/answer/",
        district.district_appeal_answer,
        name="district_appeal_answer",
    ),
    path(
        "district/appeals/<int:appeal_id>/forward/",
        district.district_appeal_forward,
        name="district_appeal_forward",
    ),
    path("district/refusals/", district.district_refusals, name="district_refusals"),
    path("ministry/", ministry.ministry_dashboard, name="ministry"),
    path("ministry/reports/", ministry.ministry_reports, name="ministry_reports"),
    path("ministry/reports/report.csv", ministry.ministry_report_csv, name="ministry_report_csv"),
    path(
        "ministry/reports/report.xlsx", ministry.ministry_report_xlsx, name="ministry_report_xlsx"
    ),
    path("ministry/audit/", staff_audit.ministry_audit, name="ministry_audit"),
    path("ministry/audit/events.csv", staff_audit.ministry_audit_csv, name="ministry_audit_csv"),
    path(
        "ministry/audit/<int:event_id>/",
        staff_audit.ministry_audit_event,
        name="ministry_audit_event",
    ),
    path(
        "ministry/audit/<int:event_id>/reveal/",
        staff_audit.ministry_audit_reveal,
        name="ministry_audit_reveal",
    ),
    path("fraud/", staff_fraud.fraud_signals, name="fraud_signals"),
    path("fraud/review/", staff_fraud.fraud_review, name="fraud_review"),
    path(
        "fraud/applications/<uuid:application_id>/",
        staff_fraud.fraud_application,
        name="fraud_application",
    ),
]
# The campaign lifecycle (issue 11): each module owns its routes.
staff_patterns += (
    after_admission.patterns
    + staff_campaigns.patterns
    + staff_catalog.patterns
    + staff_people.patterns
    + staff_readiness.patterns
)

urlpatterns = [
    path("", public.home, name="home"),
    path("status/", public.status, name="status"),
    path("help/", help_views.help_page, name="help"),
    path("addresses/", public.address_lookup_page, name="address_lookup"),
    path("language/", public.language, name="language"),
    path("login/", auth.login_pin, name="login"),
    path("login/code/", auth.login_code, name="login_code"),
    path("logout/", auth.logout_view, name="logout"),
    path("account/sessions/", session_views.account_sessions, name="account_sessions"),
    path("children/", applicant.children, name="children"),
    path("children/<int:child_id>/schools/", applicant.child_schools, name="child_schools"),
    path("applications/", applicant.applications, name="applications"),
    path("waitlist/", waitlist_views.waitlist, name="waitlist"),
    path("waitlist/join/", waitlist_views.waitlist_join_view, name="waitlist_join"),
    path(
        "waitlist/<int:entry_id>/accept/",
        waitlist_views.waitlist_accept_view,
        name="waitlist_accept",
    ),
    path(
        "waitlist/<int:entry_id>/decline/",
        waitlist_views.waitlist_decline_view,
        name="waitlist_decline",
    ),
    path(
        "waitlist/<int:entry_id>/leave/", waitlist_views.waitlist_leave_view, name="waitlist_leave"
    ),
    path("applications/new/", applicant.register, name="register"),
    path(
        "children/<int:child_id>/schools/<int:school_id>/check/",
        applicant.register_check,
        name="register_check",
    ),
    path(
        "applications/<uuid:application_id>/receipt.pdf",
        receipts.application_receipt_pdf,
        name="application_receipt",
    ),
    path(
        "applications/<uuid:application_id>/appeal/",
        more.application_appeal,
        name="application_appeal",
    ),
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
    path(
        "documents/guardian-acts/<int:act_id>/",
        documents.guardian_act_file,
        name="guardian_act_file",
    ),
    path("appeals/", more.appeals, name="appeals"),
    path("open-data/", open_data.open_data, name="open_data"),
    path("schools/<int:school_id>/quota-log/", open_data.quota_log, name="quota_log"),
    path("staff/", include((staff_patterns, "staff"))),
]
urlpatterns += after_admission.parent_patterns
