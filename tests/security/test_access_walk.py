"""The access walk: EVERY web URL pattern and EVERY API v1 operation, for every kind of user.

Objects belong to parent A, school A and district A (``scene``). Each endpoint has a kind in
the tables below, and the kind says what every role gets: allowed → the page or a 2xx (a
POST-only view answers a GET with 405, past its access check); out of scope → 404; not signed
in → the sign-in redirect (web) or 401 (API); wrong role → 404 on the web (``web/access.py``:
"as if the page did not exist"), 403 or 404 in the API as each operation does (``forbidden``
for a role that can never act, ``not_found`` for an object outside the scope). Writes are also
sent by every role that may not make them: refused with 401/403/404, and nothing changes — no
audit row and no row of the tables a write touches.

An endpoint the tables do not classify fails the walk. The "operator" is ``Role.OPERATOR``, the
technical operator: it reaches the staff home and nothing of the domain.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kattoo.accounts.models import ApiToken, User, token_digest
from kattoo.accounts.services import token_issue
from kattoo.audit.models import AuditEvent
from kattoo.core import clock
from kattoo.enrollment.models import SeatPool
from kattoo.waitlist.models import WaitlistEntry
from kattoo.web.access import ACCESS_ATTRIBUTE

from ..conftest import STAGE1, SYSTEM
from ..web.staff.conftest import Scene, as_user

ROLES = [
    "anonymous",
    "parent",
    "other_parent",
    "school",
    "other_school",
    "district",
    "other_district",
    "ministry_analyst",
    "ministry_admin",
    "operator",
]
PARENTS = {"parent", "other_parent"}
MINISTRY = {"ministry_analyst", "ministry_admin"}
STAFF = {"school", "other_school", "district", "other_district", "operator"} | MINISTRY
# Who holds parent A's objects in scope besides the parent: school A, its district, the ministry.
A_SCOPE = {"school", "district"} | MINISTRY

OK, LOGIN, STAFF_LOGIN = "ok", "login", "staff_login"

# ---- the web ------------------------------------------------------------------------------
# kind -> (the access rule the view must declare, the roles it serves, its sign-in page)
WEB_KINDS: dict[str, tuple[str, set[str], str]] = {
    "public": ("public", set(ROLES), ""),
    "scraper": ("metrics", set(), ""),
    "applicant": ("applicant", PARENTS, LOGIN),
    "applicant_object": ("applicant", {"parent"}, LOGIN),
    "signed_in_object": ("signed_in", {"parent"} | A_SCOPE, LOGIN),
    "staff_home": ("staff:district,ministry_admin,ministry_analyst,operator,school", STAFF, ""),
    "school": ("staff:school", {"school", "other_school"}, STAFF_LOGIN),
    "school_object": ("staff:school", {"school"}, STAFF_LOGIN),
    "school_scope_object": ("staff:district,ministry_admin,ministry_analyst,school", A_SCOPE, ""),
    "district": ("staff:district", {"district", "other_district"}, STAFF_LOGIN),
    "district_object": ("staff:district", {"district"}, STAFF_LOGIN),
    "ministry": ("staff:ministry_admin,ministry_analyst", MINISTRY, STAFF_LOGIN),
    "oversight": (
        "staff:district,ministry_admin,ministry_analyst",
        {"district", "other_district"} | MINISTRY,
        "",
    ),
    "oversight_object": (
        "staff:district,ministry_admin,ministry_analyst",
        {"district"} | MINISTRY,
        "",
    ),
    # The campaign lifecycle (issue 11).
    "ministry_admin": ("staff:ministry_admin", {"ministry_admin"}, ""),
    # A ministry page whose writes (and the new-campaign form) the analyst is refused inside.
    "ministry_write": ("staff:ministry_admin,ministry_analyst", {"ministry_admin"}, ""),
    "catalog": ("staff:ministry_admin,operator", {"ministry_admin", "operator"}, ""),
    "catalog_object": ("staff:ministry_admin,operator", set(), ""),
    "quota_setup": (
        "staff:district,ministry_admin",
        {"district", "other_district", "ministry_admin"},
        "",
    ),
    "people_object": ("staff:district,ministry_admin", {"district", "ministry_admin"}, ""),
    # One's own sessions and tokens (issue 13).
    "staff_self": ("staff:district,ministry_admin,ministry_analyst,operator,school", STAFF, ""),
}
for _kind, (_rule, _roles, _login) in WEB_KINDS.items():
    if _rule.startswith("staff:"):
        WEB_KINDS[_kind] = (_rule, _roles, STAFF_LOGIN)

# Users of the right role but outside the object's scope.
SAME_ROLE = {
    "applicant_object": {"other_parent"},
    "school_object": {"other_school"},
    "district_object": {"other_district"},
    "people_object": {"other_district"},
    # a kept upload is looked up after require_POST: a GET of the import is 405
    "catalog_object": {"ministry_admin", "operator"},
}

APP = "staff/school/applications/<uuid:application_id>"
# pattern -> (kind, method): "get" a page, "form" a page that also takes a POST, "post" POST only.
WEB: dict[str, tuple[str, str]] = {
    "healthz": ("public", "get"),
    "readyz": ("public", "get"),
    "metrics": ("scraper", "get"),
    "": ("public", "get"),
    "status/": ("public", "get"),
    "help/": ("public", "get"),
    "addresses/": ("public", "get"),
    "language/": ("public", "post"),
    "login/": ("public", "get"),
    "login/code/": ("public", "get"),
    "logout/": ("public", "post"),
    "open-data/": ("public", "get"),
    "schools/<int:school_id>/quota-log/": ("public", "get"),
    "staff/login/": ("public", "get"),
    "staff/logout/": ("public", "post"),
    "children/": ("applicant", "get"),
    "applications/": ("applicant", "get"),
    "waitlist/": ("applicant", "get"),
    "waitlist/join/": ("applicant", "post"),
    "applications/new/": ("applicant", "post"),
    "drafts/": ("applicant", "post"),
    "appeals/": ("applicant", "form"),
    "children/<int:child_id>/schools/": ("applicant_object", "get"),
    "applications/<uuid:application_id>/": ("applicant_object", "get"),
    "applications/<uuid:application_id>/cancel/": ("applicant_object", "form"),
    # Check your answers, the receipt and the appeal from a registration (issue 14).
    "children/<int:child_id>/schools/<int:school_id>/check/": ("applicant_object", "get"),
    "applications/<uuid:application_id>/receipt.pdf": ("applicant_object", "get"),
    "applications/<uuid:application_id>/appeal/": ("applicant_object", "form"),
    "drafts/<int:child_id>/submit/": ("applicant_object", "post"),
    "drafts/<int:child_id>/delete/": ("applicant_object", "post"),
    # A GET shows the registry's addresses to confirm first (issue 14).
    "children/<int:child_id>/schools/<int:school_id>/request-address/": (
        "applicant_object",
        "form",
    ),
    "children/<int:child_id>/act/": ("applicant_object", "form"),
    "waitlist/<int:entry_id>/accept/": ("applicant_object", "post"),
    "waitlist/<int:entry_id>/decline/": ("applicant_object", "post"),
    "waitlist/<int:entry_id>/leave/": ("applicant_object", "post"),
    "documents/guardian-acts/<int:act_id>/": ("signed_in_object", "get"),
    "staff/": ("staff_home", "get"),
    "staff/school/": ("school", "get"),
    "staff/school/quota/": ("school", "form"),
    "staff/school/quota/confirm/": ("school", "post"),
    "staff/school/children/": ("school", "get"),
    "staff/school/addresses/": ("school", "form"),
    "staff/school/teachers/": ("school", "form"),
    "staff/school/classes/": ("school", "form"),
    "staff/school/classes/classes.xlsx": ("school", "get"),
    "staff/school/classes/classes.pdf": ("school", "get"),
    "staff/school/kundoluk.csv": ("school", "get"),
    f"{APP}/": ("school_object", "get"),
    f"{APP}/admit/": ("school_object", "post"),
    f"{APP}/refuse/": ("school_object", "post"),
    f"{APP}/certificates/": ("school_object", "post"),
    f"{APP}/documents-request/": ("school_object", "post"),
    f"{APP}/pmpk/": ("school_object", "post"),
    f"{APP}/pmpk/outcome/": ("school_object", "post"),
    f"{APP}/acts/<int:act_id>/review/": ("school_object", "post"),
    f"{APP}/acts/<int:act_id>/file/": ("school_object", "get"),
    "staff/school/addresses/requests/<int:request_id>/add/": ("school_object", "post"),
    "staff/school/addresses/requests/<int:request_id>/reject/": ("school_object", "post"),
    "staff/school/teachers/<int:teacher_id>/remove/": ("school_object", "post"),
    "staff/schools/<int:school_id>/waitlist/": ("school_scope_object", "get"),
    "staff/district/": ("district", "get"),
    "staff/district/commission/": ("district", "form"),
    "staff/district/commission/<int:decision_id>/link/": ("district_object", "post"),
    "staff/district/above-quota/": ("district", "get"),
    "staff/district/teachers/<int:addition_id>/approve/": ("district_object", "post"),
    "staff/district/teachers/<int:addition_id>/reject/": ("district_object", "post"),
    "staff/district/appeals/": ("district", "get"),
    "staff/district/refusals/": ("district", "get"),
    "staff/district/schools/<int:school_id>/": ("district_object", "get"),
    "staff/district/schools/<int:school_id>/verify/": ("district_object", "post"),
    "staff/district/schools/<int:school_id>/approve/": ("district_object", "post"),
    "staff/district/appeals/<int:appeal_id>/answer/": ("district_object", "post"),
    "staff/district/appeals/<int:appeal_id>/forward/": ("district_object", "post"),
    "staff/district/appeals/<int:appeal_id>/": ("district_object", "get"),
    "staff/district/appeals/<int:appeal_id>/reinstate/": ("district_object", "post"),
    "staff/district/appeals/<int:appeal_id>/reject/": ("district_object", "post"),
    "staff/ministry/": ("ministry", "get"),
    "staff/ministry/reports/": ("ministry", "get"),
    "staff/ministry/reports/report.csv": ("ministry", "get"),
    "staff/ministry/reports/report.xlsx": ("ministry", "get"),
    "staff/ministry/audit/": ("ministry", "get"),
    "staff/ministry/audit/events.csv": ("ministry", "get"),
    "staff/ministry/audit/<int:event_id>/": ("ministry", "get"),
    "staff/fraud/": ("oversight", "get"),
    "staff/fraud/review/": ("oversight", "post"),
    "staff/fraud/applications/<uuid:application_id>/": ("oversight_object", "get"),
    # The campaign lifecycle (issue 11): campaigns and the calendar (analysts read, the
    # administrator writes: a refused write is a 404 inside the view), the catalog upload
    # (its kept file belongs to the uploader's session: anyone else's token is 404),
    # readiness, people, the public enrolment link.
    "staff/ministry/campaigns/": ("ministry", "get"),
    "staff/ministry/campaigns/new/": ("ministry_write", "form"),
    "staff/ministry/campaigns/<slug:code>/": ("ministry", "form"),
    "staff/ministry/campaigns/<slug:code>/publish/": ("ministry", "post"),
    "staff/ministry/calendar/<int:year>/": ("ministry", "form"),
    "staff/catalog/": ("catalog", "form"),
    "staff/catalog/check/<slug:token>/": ("catalog_object", "get"),
    "staff/catalog/check/<slug:token>/import/": ("catalog_object", "post"),
    "staff/catalog/result/": ("catalog", "get"),
    "staff/quotas/recompute/": ("quota_setup", "post"),
    "staff/readiness/": ("oversight", "get"),
    "staff/ministry/people/": ("ministry_admin", "form"),
    "staff/district/people/": ("district", "form"),
    "staff/people/<str:username>/deactivate/": ("people_object", "post"),
    "staff/people/<str:username>/second-factor/reset/": ("people_object", "post"),
    "staff/enrol/<str:token>/": ("public", "form"),
    # Revealing a masked applicant in the audit trail (issue 13): the administrator, with a
    # reason; the analyst reaches the event page, not this.
    "staff/ministry/audit/<int:event_id>/reveal/": ("ministry_admin", "post"),
    "account/sessions/": ("applicant", "form"),
    "staff/sessions/": ("staff_self", "form"),
    # After admission (issue 12): withdrawal, the ПМПК proposal and its answer, transfers.
    "applications/<uuid:application_id>/withdraw/": ("applicant_object", "form"),
    "applications/<uuid:application_id>/pmpk-answer/": ("applicant_object", "post"),
    f"{APP}/pmpk/propose/": ("school_object", "post"),
    "staff/district/after-admission/": ("district", "form"),
}

# ---- the API ------------------------------------------------------------------------------
# kind -> role -> expected status of a read ("2xx" for allowed). Writes: the roles that may
# make them are listed in API_WRITERS; everyone else is refused and nothing changes.
EVERYONE_2XX = dict.fromkeys(ROLES, "2xx")


def _reads(allowed: set[str], *, staff: int = 404, parents: int = 404, others: int = 404):
    def status(role: str) -> int | str:
        if role in allowed:
            return "2xx"
        if role == "anonymous":
            return 401
        if role in PARENTS:
            return parents
        if role in STAFF:
            return staff
        return others

    return {role: status(role) for role in ROLES}


API_READS: dict[str, dict[str, int | str]] = {
    "public": EVERYONE_2XX,
    "applicant_self": _reads(PARENTS, staff=403),
    "application": _reads({"parent"} | A_SCOPE),
    # The technical operator sees every school's quota (``schools_visible_to``) and, in lists
    # narrowed by ``applications_visible_to``, no child.
    "school_scope": _reads(A_SCOPE | {"operator"}),
    "school_children": _reads(A_SCOPE),
    # a school's waitlist names children: the operator is refused like for the applications
    "waitlist_staff": _reads(A_SCOPE),
    "waitlist_entry": _reads({"parent"} | A_SCOPE),
    "any_signed_in": _reads(set(ROLES) - {"anonymous"}),
    "staff_reports": _reads(STAFF, parents=403),
    "ministry": _reads(MINISTRY, staff=403, parents=403),
    "oversight": _reads({"district", "other_district"} | MINISTRY, staff=403, parents=403),
    "staff_any": _reads(STAFF, parents=403),
    # one appeal's card: its applicant, the district it is addressed to, the ministry
    "appeal": _reads({"parent", "district"} | MINISTRY),
    "people": _reads({"district", "other_district", "ministry_admin"}, staff=403, parents=403),
}
API_WRITERS: dict[str, set[str]] = {
    "public": set(ROLES),  # sign-in: anyone may ask for a code
    "applicant": PARENTS,
    "applicant_object": {"parent"},
    "school_object": {"school"},
    "district_object": {"district"},
    "appeal_answer": {"district", "school"},
    "oversight": {"district", "other_district"} | MINISTRY,
    "ministry_admin": {"ministry_admin"},
    "catalog": {"ministry_admin", "operator"},
    "quota_setup": {"district", "other_district", "ministry_admin"},
    "people": {"district", "other_district", "ministry_admin"},
    "people_object": {"district"},
    "signed_in": set(ROLES) - {"anonymous"},
    "own_token": {"parent"},  # {token_id} is the parent's token: anyone else's DELETE is 404
}
BODY = dict[str, Any] | str | None
QUERY = {"GET /api/v1/addresses/lookup": {"q": "Ленин"}}
# "METHOD path" -> (kind, body of a write; ids in {braces} are filled from the scene)
API: dict[str, tuple[str, BODY]] = {
    "POST /api/v1/auth/code": ("public", None),
    "POST /api/v1/auth/token": ("public", None),
    "GET /api/v1/campaign": ("public", None),
    "GET /api/v1/schools": ("public", None),
    "GET /api/v1/schools/{school_id}": ("public", None),
    "GET /api/v1/addresses/lookup": ("public", None),
    "GET /api/v1/open-data/summary": ("public", None),
    "GET /api/v1/me": ("applicant_self", None),
    "GET /api/v1/me/children": ("applicant_self", None),
    "GET /api/v1/applications": ("applicant_self", None),
    "GET /api/v1/drafts": ("applicant_self", None),
    "GET /api/v1/waitlist": ("applicant_self", None),
    "GET /api/v1/applications/{application_id}": ("application", None),
    "GET /api/v1/waitlist/{entry_id}": ("waitlist_entry", None),
    "GET /api/v1/schools/{school_id}/quota": ("school_scope", None),
    "GET /api/v1/schools/{school_id}/applications": ("school_scope", None),
    "GET /api/v1/schools/{school_id}/kundoluk.json": ("school_children", None),
    "GET /api/v1/schools/{school_id}/kundoluk.csv": ("school_children", None),
    "GET /api/v1/schools/{school_id}/waitlist": ("waitlist_staff", None),
    "GET /api/v1/appeals": ("any_signed_in", None),
    "GET /api/v1/reports/summary": ("staff_reports", None),
    "GET /api/v1/reports/summary.csv": ("staff_reports", None),
    "GET /api/v1/reports/summary.xlsx": ("staff_reports", None),
    "GET /api/v1/audit/events": ("ministry", None),
    "GET /api/v1/audit/events.csv": ("ministry", None),
    "GET /api/v1/audit/events/{event_id}": ("ministry", None),
    "GET /api/v1/fraud/signals": ("oversight", None),
    "PATCH /api/v1/me": ("applicant", {"language": "ru"}),
    "POST /api/v1/me/children": (
        "applicant",
        {"pin": "{child_pin}", "birth_certificate": {"series": "I-TN", "number": "123456"}},
    ),
    "POST /api/v1/applications": (
        "applicant_object",
        {"child": "{child_id}", "school": "{other_school_id}", "language": "ky"},
    ),
    "POST /api/v1/applications/{application_id}/cancel": ("applicant_object", None),
    "POST /api/v1/me/children/{child_id}/guardian-document": ("applicant_object", "multipart"),
    "POST /api/v1/applications/{application_id}/guardian-document": (
        "applicant_object",
        "multipart",
    ),
    "POST /api/v1/schools/{school_id}/microdistrict/requests": (
        "applicant_object",
        {"child": "{child_id}"},
    ),
    "PUT /api/v1/drafts/{child_id}": (
        "applicant_object",
        {"school": "{school_id}", "language": "ky"},
    ),
    "DELETE /api/v1/drafts/{child_id}": ("applicant_object", None),
    "POST /api/v1/drafts/{child_id}/submit": ("applicant_object", None),
    "POST /api/v1/waitlist": (
        "applicant_object",
        {"child": "{child_id}", "school": "{school_id}", "language": "ky"},
    ),
    "POST /api/v1/waitlist/{entry_id}/accept": ("applicant_object", None),
    "POST /api/v1/waitlist/{entry_id}/decline": ("applicant_object", None),
    "POST /api/v1/waitlist/{entry_id}/leave": ("applicant_object", None),
    "POST /api/v1/appeals": (
        "applicant",
        {"subject": "other", "school": "{school_id}", "text": "Please look at this, thank you."},
    ),
    "PATCH /api/v1/schools/{school_id}/quota": (
        "school_object",
        {"operations": [{"op": "raise", "class_set": 1, "seats": 30}]},
    ),
    "POST /api/v1/schools/{school_id}/quota/confirm": ("school_object", None),
    "POST /api/v1/schools/{school_id}/quota/approve": ("district_object", None),
    "POST /api/v1/applications/{application_id}/admit": ("school_object", None),
    "POST /api/v1/applications/{application_id}/refuse": (
        "school_object",
        {"reason": "other", "text": "The family moved away."},
    ),
    "POST /api/v1/applications/{application_id}/documents": (
        "school_object",
        {"kind": "medical_health", "received_on": "2026-06-01"},
    ),
    "POST /api/v1/schools/{school_id}/microdistrict/addresses": (
        "school_object",
        {"street": "{street_code}", "house_from": 1, "house_to": 9, "note": "added"},
    ),
    "POST /api/v1/schools/{school_id}/teachers": (
        "school_object",
        {"pin": "11203198800002", "full_name": "Нурлан Токтогулов"},
    ),
    "GET /api/v1/schools/{school_id}/teachers": ("school_children", None),
    "POST /api/v1/schools/{school_id}/teachers/{teacher_id}/remove": (
        "school_object",
        {"ground": "dismissed"},
    ),
    "POST /api/v1/schools/{school_id}/classes/form": ("school_object", {"language": "ky"}),
    "POST /api/v1/commission-decisions": (
        "district_object",
        {
            "child_pin": "{child_pin}",
            "applicant_pin": "{parent_pin}",
            "school": "{school_id}",
            "language": "ky",
            "number": "5",
            "decided_on": "2026-04-01",
            "ground": "other",
        },
    ),
    "POST /api/v1/commission-decisions/{decision_id}/link-child": (
        "district_object",
        {"child_pin": "{child_pin}"},
    ),
    "GET /api/v1/above-quota": ("oversight", None),
    "GET /api/v1/teacher-additions": ("oversight", None),
    "POST /api/v1/teacher-additions/{addition_id}/approve": ("district_object", {"note": ""}),
    "POST /api/v1/teacher-additions/{addition_id}/reject": ("district_object", {"note": "x"}),
    "POST /api/v1/appeals/{appeal_id}/answer": ("appeal_answer", {"text": "Answered."}),
    "POST /api/v1/appeals/{appeal_id}/forward": ("district_object", {"school": "{school_id}"}),
    "GET /api/v1/appeals/{appeal_id}": ("appeal", None),
    "POST /api/v1/appeals/{appeal_id}/reinstate": ("district_object", {"text": ""}),
    "POST /api/v1/appeals/{appeal_id}/reject": ("district_object", {"text": "No ground."}),
    "POST /api/v1/appeals/{appeal_id}/commission": (
        "district_object",
        {"number": "9", "decided_on": "2026-04-01", "ground": "other"},
    ),
    "POST /api/v1/fraud/reviews": (
        "oversight",
        {"kind": "crowded_address", "key": "x", "status": "legitimate"},
    ),
    # The campaign lifecycle (issue 11).
    "GET /api/v1/campaigns": ("staff_any", None),
    "GET /api/v1/campaigns/{code}": ("staff_any", None),
    "GET /api/v1/calendar/{year}": ("staff_any", None),
    "GET /api/v1/campaigns/{code}/readiness": ("oversight", None),
    "GET /api/v1/staff": ("people", None),
    "POST /api/v1/campaigns": (
        "ministry_admin",
        {
            "code": "2027-2028",
            "title": "2027–2028",
            "birth_from": "2020-01-01",
            "birth_to": "2021-12-31",
            "stage1_opens_at": "2027-04-01T10:00:00+06:00",
            "stage2_opens_at": "2027-06-01T10:00:00+06:00",
            "registration_closes_at": "2027-08-31T00:00:00+06:00",
            "copy_from": "{code}",
        },
    ),
    "PATCH /api/v1/campaigns/{code}": ("ministry_admin", {"title": "Renamed"}),
    "POST /api/v1/campaigns/{code}/publish": ("ministry_admin", None),
    "PUT /api/v1/calendar/{year}": (
        "ministry_admin",
        {"holidays": ["2027-01-01"], "working_days": []},
    ),
    "POST /api/v1/campaigns/{code}/catalog": ("catalog", "multipart"),
    "POST /api/v1/campaigns/{code}/quotas/compute": ("quota_setup", {}),
    "POST /api/v1/staff": (
        "people",
        {"username": "newdirector", "role": "school", "full_name": "Жаңы Директор"},
    ),
    "POST /api/v1/staff/{username}/deactivate": ("people_object", None),
    "POST /api/v1/staff/{username}/second-factor/reset": ("people_object", None),
    "POST /api/v1/staff/enrolment": ("public", None),
    "POST /api/v1/staff/enrolment/confirm": ("public", None),
    "POST /api/v1/auth/staff-token": ("public", None),
    # the SMS gateway's delivery reports: its shared secret, not a token (ADR 0022)
    "POST /api/v1/notifications/delivery-reports": ("public", None),
    "POST /api/v1/audit/events/{event_id}/reveal": (
        "ministry_admin",
        {"reason": "Complaint No. 12 of 3 April"},
    ),
    "POST /api/v1/auth/logout": ("signed_in", None),
    "POST /api/v1/auth/logout-all": ("signed_in", None),
    "GET /api/v1/me/tokens": ("any_signed_in", None),
    "DELETE /api/v1/me/tokens/{token_id}": ("own_token", None),
    # After admission (issue 12).
    "POST /api/v1/applications/{application_id}/withdraw": (
        "applicant_object",
        {"reason": "We move to Osh."},
    ),
    "POST /api/v1/applications/{application_id}/pmpk-proposals/answer": (
        "applicant_object",
        {"answer": "decline"},
    ),
    "POST /api/v1/applications/{application_id}/pmpk-proposals": (
        "school_object",
        {"kind": "continue_here", "note": "With a tutor."},
    ),
    "POST /api/v1/applications/{application_id}/transfer": (
        "district_object",
        {"school": "{school_id}", "language": "ru", "number": "T-5", "decided_on": "2026-04-01"},
    ),
    "GET /api/v1/transfers": ("oversight", None),
    "GET /api/v1/pmpk-proposals": ("any_signed_in", None),
}

# The tables a refused write could touch: none of them may change.
WATCHED = [
    "audit.AuditEvent",
    "enrollment.Application",
    "enrollment.ApplicationTransition",
    "enrollment.Draft",
    "enrollment.SeatPool",
    "people.GuardianAct",
    "people.ChildLink",
    "appeals.Appeal",
    "catalog.Teacher",
    "catalog.MicrodistrictAddress",
    "catalog.MicrodistrictRequest",
    "quotas.QuotaEvent",
    "waitlist.WaitlistEntry",
    "enrollment.AdmissionTransfer",
    "enrollment.PmpkProposal",
    "accounts.User",
    "accounts.ApiToken",
    "accounts.StaffEnrolment",
    "campaigns.Campaign",
    "campaigns.CalendarDay",
    "catalog.School",
    "quotas.Quota",
]


def snapshot() -> dict[str, Any]:
    """Row counts and the last change of every watched table (a refused write changes none)."""
    state: dict[str, Any] = {}
    for label in WATCHED:
        model = apps.get_model(label)
        state[label] = (
            model.objects.count(),
            json.dumps(list(model.objects.values()), default=str),
        )
    return state


# ---- the world ----------------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def web_patterns() -> dict[str, Callable[..., Any]]:
    return {
        path: view
        for path, view in _walk(get_resolver().url_patterns)
        if not path.startswith(("admin/", "api/"))
    }


def api_operations() -> set[str]:
    schema = Client().get("/api/v1/openapi.json").json()
    return {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item}


def ids(scene: Scene) -> dict[str, Any]:
    world, family = scene.world, scene.family
    pool = SeatPool.objects.get(campaign=world.campaign, school=world.school, language="ky")
    entry = WaitlistEntry.objects.create(
        campaign=world.campaign,
        pool=pool,
        child=family.children[0],
        applicant=family.parent.person,
        user=family.parent,
        joined_at=clock.now(),
    )
    event = AuditEvent.objects.filter(action__startswith="application.").earliest("id")
    parent_token = token_issue(user=family.parent, actor=SYSTEM)
    return {
        "application_id": scene.application.pk,
        "act_id": scene.act.pk,
        "request_id": scene.address_request.pk,
        "teacher_id": scene.teacher.pk,
        "school_id": world.school.pk,
        "other_school_id": world.other_school.pk,
        "appeal_id": scene.appeal.pk,
        "decision_id": scene.commission_decision.pk,
        "addition_id": scene.teacher_addition.pk,
        "child_id": family.child.pk,
        "child_pin": family.child.pin,
        "parent_pin": family.parent.person.pin,
        "entry_id": entry.pk,
        "event_id": event.pk,
        "street_code": world.home.code,
        "code": world.campaign.code,
        "year": 2027,
        "username": scene.users["school_own"].username,
        "token": scene.enrolment_token,
        "token_id": ApiToken.objects.get(digest=token_digest(parent_token)).pk,
    }


def fill(template: str, values: dict[str, Any]) -> str:
    for name, value in values.items():
        for converter in ("int", "uuid", "str", "slug", "path"):
            template = template.replace(f"<{converter}:{name}>", str(value))
        template = template.replace("{" + name + "}", str(value))
    assert not re.search(r"<\w+:\w+>|\{[a-z_]+\}", template), template
    return template


def users_of(scene: Scene) -> dict[str, User | None]:
    u = scene.users
    other = scene.world.family(street=scene.world.elsewhere)
    return {
        "anonymous": None,
        "parent": u["parent"],
        "other_parent": other.parent,
        "school": u["school_own"],
        "other_school": u["school_other"],
        "district": u["district_own"],
        "other_district": u["district_other"],
        "ministry_analyst": u["analyst"],
        "ministry_admin": u["admin"],
        "operator": u["operator"],
    }


# ---- the tables cover everything ----------------------------------------------------------


def test_every_web_url_is_classified_and_declares_the_access_of_its_kind() -> None:
    patterns = web_patterns()
    assert set(patterns) - set(WEB) == set(), "classify these URLs in WEB"
    assert set(WEB) - set(patterns) == set(), "these URLs are gone: drop them from WEB"
    wrong = {
        path: (getattr(view, ACCESS_ATTRIBUTE, None), WEB_KINDS[WEB[path][0]][0])
        for path, view in patterns.items()
        if getattr(view, ACCESS_ATTRIBUTE, None) != WEB_KINDS[WEB[path][0]][0]
    }
    assert wrong == {}


def test_every_api_operation_is_classified() -> None:
    operations = api_operations()
    assert operations - set(API) == set(), "classify these operations in API"
    assert set(API) - operations == set(), "these operations are gone: drop them from API"


# ---- the walk -----------------------------------------------------------------------------


def _login_target(response) -> str:
    return response.get("Location", "") if response.status_code == 302 else ""


def web_outcome(kind: str, method: str, role: str) -> int | str:
    _rule, allowed, login = WEB_KINDS[kind]
    if kind == "scraper":
        return "scraper"
    if role in allowed:
        return 405 if method == "post" else OK  # a POST-only view answers GET past its access
    if method == "post" and role in SAME_ROLE.get(kind, set()):
        return 405  # require_POST answers before the object is looked up: nothing leaks
    if role == "anonymous":
        return login
    return 404


def web_matches(response, expect: int | str) -> bool:
    location = _login_target(response)
    if expect == "scraper":  # the scraper's allow-list decides, never the session
        return response.status_code in (200, 404)
    if expect == LOGIN:
        return location.startswith("/login/?next=")
    if expect == STAFF_LOGIN:
        return location.startswith("/staff/login/?next=")
    if expect == OK:
        return response.status_code < 400 and "login/?next=" not in location
    return response.status_code == expect


@pytest.mark.parametrize("role", ROLES)
def test_web_walk(scene: Scene, role: str, subtests) -> None:
    values = ids(scene)
    client = as_user(Client(), users_of(scene)[role])
    for pattern, (kind, method) in WEB.items():
        path = "/" + fill(pattern, values)
        expect = web_outcome(kind, method, role)
        with subtests.test(msg=f"{role} GET {path}"):
            response = client.get(path)
            assert web_matches(response, expect), (
                expect,
                response.status_code,
                _login_target(response),
            )
        if method != "get" and role not in WEB_KINDS[kind][1] and kind != "public":
            with subtests.test(msg=f"{role} POST {path}"):
                before = snapshot()
                response = client.post(path, {})
                assert response.status_code == 404 or _login_target(response).startswith(
                    ("/login/?next=", "/staff/login/?next=")
                ), response.status_code
                assert snapshot() == before


def _call(client: Client, method: str, path: str, body: BODY, values, headers):
    if body == "multipart":  # a guardian act, as the upload operations take it
        data = {"kind": "court", "file": SimpleUploadedFile("act.pdf", b"%PDF-1.4 walk")}
        return client.post(path, data, headers=headers)
    payload = json.loads(fill(json.dumps(body), values)) if body is not None else None
    return client.generic(
        method,
        path,
        json.dumps(payload) if payload is not None else "",
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.parametrize("role", ROLES)
def test_api_walk(scene: Scene, role: str, subtests) -> None:
    values = ids(scene)
    user = users_of(scene)[role]
    headers = {"Idempotency-Key": "3f2b1c9e-8a4d-4e21-9f0a-1b2c3d4e5f60"}
    if user is not None:
        headers["Authorization"] = f"Bearer {token_issue(user=user, actor=SYSTEM)}"
    client = Client()
    for operation, (kind, body) in API.items():
        method, template = operation.split(" ", 1)
        path = fill(template, values)
        if method == "GET":
            expect = API_READS[kind][role]
            with subtests.test(msg=f"{role} {method} {path}"):
                response = client.get(path, QUERY.get(operation), headers=headers)
                if expect == "2xx":
                    assert 200 <= response.status_code < 300, (
                        response.status_code,
                        response.content[:300],
                    )
                else:
                    assert response.status_code == expect, (
                        expect,
                        response.status_code,
                        response.content[:300],
                    )
            continue
        if role in API_WRITERS[kind]:
            continue  # allowed writes are the domain tests' work; here: who is refused
        with subtests.test(msg=f"{role} {method} {path}"):
            before = snapshot()
            response = _call(client, method, path, body, values, headers)
            denied = {401} if role == "anonymous" else {403, 404}
            if role == "anonymous" and body == "multipart":
                # A file upload without a token is refused before it is read: no cross-site
                # form may post one (kattoo.api.content_type, ADR 0023).
                denied = {415}
            assert response.status_code in denied, (response.status_code, response.content[:300])
            assert snapshot() == before


@pytest.fixture(autouse=True)
def _at_stage1():
    with clock.frozen(STAGE1 + dt.timedelta(minutes=10)):
        yield
