"""Role × URL: every staff URL for every kind of user (deny by default, out of scope is 404)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kattoo.audit.models import AuditEvent
from kattoo.web.access import ACCESS_ATTRIBUTE

from .conftest import Scene, as_user

APP = "/staff/school/applications/{application}"
# (method, path, owner): who owns the URL decides who may use it.
URLS = [
    ("get", "/staff/login/", "public"),
    ("post", "/staff/logout/", "public"),
    ("get", "/staff/", "home"),
    ("get", "/staff/school/", "school"),
    ("get", "/staff/school/quota/", "school"),
    ("post", "/staff/school/quota/", "school"),
    ("post", "/staff/school/quota/confirm/", "school"),
    ("get", "/staff/school/children/", "school"),
    ("get", f"{APP}/", "school_object"),
    ("post", f"{APP}/admit/", "school_object"),
    ("post", f"{APP}/refuse/", "school_object"),
    ("post", f"{APP}/certificates/", "school_object"),
    ("post", f"{APP}/documents-request/", "school_object"),
    ("post", f"{APP}/pmpk/", "school_object"),
    ("post", f"{APP}/pmpk/outcome/", "school_object"),
    ("post", f"{APP}/pmpk/propose/", "school_object"),
    ("post", f"{APP}/acts/{{act}}/review/", "school_object"),
    ("get", f"{APP}/acts/{{act}}/file/", "school_object"),
    ("get", "/staff/school/addresses/", "school"),
    ("post", "/staff/school/addresses/", "school"),
    ("post", "/staff/school/addresses/requests/{request}/add/", "school_object"),
    ("post", "/staff/school/addresses/requests/{request}/reject/", "school_object"),
    ("get", "/staff/school/teachers/", "school"),
    ("post", "/staff/school/teachers/", "school"),
    ("post", "/staff/school/teachers/{teacher}/remove/", "school_object"),
    ("get", "/staff/school/classes/", "school"),
    ("post", "/staff/school/classes/", "school"),
    ("get", "/staff/school/classes/classes.xlsx", "school"),
    ("get", "/staff/school/classes/classes.pdf", "school"),
    ("get", "/staff/school/kundoluk.csv", "school"),
    ("get", "/staff/schools/{school}/waitlist/", "school_scope_object"),
    ("get", "/staff/district/", "district"),
    ("get", "/staff/district/schools/{school}/", "district_object"),
    ("post", "/staff/district/schools/{school}/approve/", "district_object"),
    ("post", "/staff/district/schools/{school}/verify/", "district_object"),
    ("get", "/staff/district/commission/", "district"),
    ("post", "/staff/district/commission/", "district"),
    ("post", "/staff/district/commission/{decision}/link/", "district_object"),
    ("get", "/staff/district/above-quota/", "district"),
    ("post", "/staff/district/teachers/{addition}/approve/", "district_object"),
    ("post", "/staff/district/teachers/{addition}/reject/", "district_object"),
    ("get", "/staff/district/appeals/", "district"),
    ("post", "/staff/district/appeals/{appeal}/answer/", "district_object"),
    ("post", "/staff/district/appeals/{appeal}/forward/", "district_object"),
    ("get", "/staff/district/appeals/{appeal}/", "district_object"),
    ("post", "/staff/district/appeals/{appeal}/reinstate/", "district_object"),
    ("post", "/staff/district/appeals/{appeal}/reject/", "district_object"),
    ("get", "/staff/district/refusals/", "district"),
    ("get", "/staff/district/after-admission/", "district"),
    ("post", "/staff/district/after-admission/", "district"),
    ("get", "/staff/ministry/", "ministry"),
    ("get", "/staff/ministry/reports/", "ministry"),
    ("get", "/staff/ministry/reports/report.csv", "ministry"),
    ("get", "/staff/ministry/reports/report.xlsx", "ministry"),
    ("get", "/staff/ministry/audit/", "ministry"),
    ("get", "/staff/ministry/audit/events.csv", "ministry"),
    ("get", "/staff/ministry/audit/{event}/", "ministry"),
    ("post", "/staff/ministry/audit/{event}/reveal/", "ministry_admin"),  # issue 13
    ("get", "/staff/fraud/", "oversight"),
    ("post", "/staff/fraud/review/", "oversight"),
    ("get", "/staff/fraud/applications/{application}/", "oversight_object"),
    # The campaign lifecycle (issue 11).
    ("get", "/staff/ministry/campaigns/", "ministry"),
    ("get", "/staff/ministry/campaigns/new/", "ministry_admin"),
    ("post", "/staff/ministry/campaigns/new/", "ministry_admin"),
    ("get", "/staff/ministry/campaigns/{code}/", "ministry"),
    ("post", "/staff/ministry/campaigns/{code}/", "ministry_admin"),
    ("post", "/staff/ministry/campaigns/{code}/publish/", "ministry_admin"),
    ("get", "/staff/ministry/calendar/{year}/", "ministry"),
    ("post", "/staff/ministry/calendar/{year}/", "ministry_admin"),
    ("get", "/staff/catalog/", "catalog"),
    ("post", "/staff/catalog/", "catalog"),
    ("get", "/staff/catalog/check/{token}/", "catalog_kept"),
    ("post", "/staff/catalog/check/{token}/import/", "catalog_kept"),
    ("get", "/staff/catalog/result/", "catalog_redirect"),
    ("post", "/staff/quotas/recompute/", "quota_setup"),
    ("get", "/staff/readiness/", "oversight"),
    ("get", "/staff/ministry/people/", "ministry_admin"),
    ("post", "/staff/ministry/people/", "ministry_admin"),
    ("get", "/staff/district/people/", "district"),
    ("post", "/staff/district/people/", "district"),
    ("post", "/staff/people/{username}/deactivate/", "people_object"),
    ("post", "/staff/people/{username}/second-factor/reset/", "people_object"),
    ("get", "/staff/enrol/{enrolment}/", "public"),
    # Where one is signed in (issue 13): every staff member, their own sessions and tokens.
    ("get", "/staff/sessions/", "own_sessions"),
    ("post", "/staff/sessions/", "own_sessions"),
]
WHO = [
    "anonymous",
    "parent",
    "school_own",
    "school_other",
    "district_own",
    "district_other",
    "analyst",
    "admin",
    "operator",
]
STAFF = set(WHO) - {"anonymous", "parent"}
ALLOWED = {
    "home": STAFF,
    "school": {"school_own", "school_other"},
    "school_object": {"school_own", "school_other"},
    "district": {"district_own", "district_other"},
    "district_object": {"district_own", "district_other"},
    # Read-only pages about one school, for everyone whose scope holds it (the waitlist).
    "school_scope_object": {
        "school_own",
        "school_other",
        "district_own",
        "district_other",
        "analyst",
        "admin",
    },
    "ministry": {"analyst", "admin"},
    "oversight": {"district_own", "district_other", "analyst", "admin"},
    "oversight_object": {"district_own", "district_other", "analyst", "admin"},
    "ministry_admin": {"admin"},
    "catalog": {"admin", "operator"},
    "catalog_redirect": {"admin", "operator"},
    # A kept upload belongs to the session that uploaded it: any other token is 404.
    "catalog_kept": set(),
    "quota_setup": {"district_own", "district_other", "admin"},
    # A district officer manages the directors of its own schools only; the ministry's
    # administrator reaches the page and is told it manages no director.
    "people_object": {"district_own", "district_other", "admin"},
    "own_sessions": STAFF,
}
# A user inside the scope gets the page (200), or their POST is taken up: done (302), or
# answered with the form's errors (422) or the domain's refusal (409) — never 404 or sign-in.
ACCEPTED = "accepted"
LOGIN = "login"


def expected(owner: str, who: str, method: str) -> int | str:
    if owner == "public":
        return 200 if method == "get" else 302
    if who == "anonymous":
        return LOGIN
    if who not in ALLOWED[owner]:
        return 404
    if owner.endswith("_object") and who.endswith("_other"):
        return 404
    if owner == "home":
        return 200 if who == "operator" else 302
    if owner == "catalog_redirect":
        return ACCEPTED  # the last import's result, or back to the upload page
    return 200 if method == "get" else ACCEPTED


def _path(template: str, scene: Scene) -> str:
    return template.format(
        application=scene.application.pk,
        act=scene.act.pk,
        request=scene.address_request.pk,
        teacher=scene.teacher.pk,
        school=scene.world.school.pk,
        appeal=scene.appeal.pk,
        event=AuditEvent.objects.order_by("pk").values_list("pk", flat=True).first(),
        code=scene.world.campaign.code,
        year=2027,
        token="0" * 32,
        username=scene.users["school_own"].username,
        enrolment=scene.enrolment_token,
        decision=scene.commission_decision.pk if "{decision}" in template else 0,
        addition=scene.teacher_addition.pk if "{addition}" in template else 0,
    )


def _outcome(response, expect: int | str) -> bool:
    location = response.get("Location", "")
    if expect == LOGIN:
        return response.status_code == 302 and location.startswith("/staff/login/?next=")
    if expect == ACCEPTED:
        if response.status_code == 302:
            return not location.startswith("/staff/login/")
        return response.status_code in (200, 409, 422)
    return response.status_code == expect


@pytest.mark.parametrize("who", WHO)
def test_role_url_matrix(scene: Scene, who: str) -> None:
    wrong = []
    for method, template, owner in URLS:
        client = as_user(Client(), scene.users[who])
        path = _path(template, scene)
        response = getattr(client, method)(path)
        expect = expected(owner, who, method)
        if not _outcome(response, expect):
            wrong.append((method, path, expect, response.status_code, response.get("Location")))
    assert wrong == []


def _staff_patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _staff_patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and prefix.startswith("staff/"):
            yield prefix + str(p.pattern), p.callback


def test_the_matrix_covers_every_staff_url() -> None:
    patterns = dict(_staff_patterns(get_resolver().url_patterns))
    covered = {
        t.replace("{application}", "<uuid:application_id>")
        .replace("{act}", "<int:act_id>")
        .replace("{request}", "<int:request_id>")
        .replace("{teacher}", "<int:teacher_id>")
        .replace("{school}", "<int:school_id>")
        .replace("{appeal}", "<int:appeal_id>")
        .replace("{event}", "<int:event_id>")
        .replace("{code}", "<slug:code>")
        .replace("{year}", "<int:year>")
        .replace("{token}", "<slug:token>")
        .replace("{username}", "<str:username>")
        .replace("{enrolment}", "<str:token>")
        .replace("{decision}", "<int:decision_id>")
        .replace("{addition}", "<int:addition_id>")
        .lstrip("/")
        for _m, t, _o in URLS
    }
    assert set(patterns) - covered == set()
    declared = {path: getattr(view, ACCESS_ATTRIBUTE, None) for path, view in patterns.items()}
    assert all(rule == "public" or str(rule).startswith("staff:") for rule in declared.values()), (
        declared
    )


def test_a_password_only_session_is_sent_to_the_second_factor(scene: Scene) -> None:
    client = Client()
    client.force_login(scene.users["school_own"])  # no OTP device in the session
    response = client.get("/staff/school/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
