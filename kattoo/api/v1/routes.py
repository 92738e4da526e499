"""API v1: the applicant part of shared/spec/API.md."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Query, Router
from ninja.files import UploadedFile

from kattoo.accounts.services import user_language_set
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import School
from kattoo.catalog.selectors import address_lookup, schools_participating
from kattoo.catalog.services import microdistrict_request_file
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.abilities import application_abilities, applications_abilities
from kattoo.enrollment.idempotency import idempotency_key_parse, idempotent_create
from kattoo.enrollment.models import Application
from kattoo.enrollment.selectors import (
    applications_visible_to,
    child_standing,
    children_standings,
    pools_of,
    schools_open_to_child,
)
from kattoo.enrollment.services import application_cancel, application_register
from kattoo.integrations.registry.pin import InvalidPin, pin_parse
from kattoo.people.models import ChildLink, Person
from kattoo.people.selectors import child_links_of
from kattoo.people.services import (
    applicant_children_sync,
    child_link_by_certificate,
    guardian_act_upload,
)

from ..auth import bearer, current_user, require_applicant
from ..cache import seats_cached
from ..pagination import paginate_by_pk
from ..problems import PROBLEM_STATUSES, Problem, registration_attempt
from . import schemas as s
from .serializers import (
    address_match_out,
    application_out,
    campaign_out,
    child_out,
    guardian_act_out,
    me_out,
    school_out,
)

public = Router(tags=["public"])
applicant = Router(tags=["applicant"], auth=bearer)

PROBLEMS: dict[int, Any] = dict.fromkeys(PROBLEM_STATUSES, Problem)


def actor_of(request: HttpRequest) -> Actor:
    user: Any = getattr(request, "auth", None)
    return Actor(user=user, channel="api", request_id=getattr(request, "request_id", ""))


def is_row_id(value: str) -> bool:
    """ASCII digits that fit a bigint: ``str.isdigit`` alone also takes "¹", which ``int``
    refuses (a server error the fuzz found)."""
    return value.isascii() and value.isdigit() and len(value) <= 18


def _int_id(value: str) -> int:
    """A path id that cannot name a row is simply not found."""
    if not is_row_id(value):
        raise Http404
    return int(value)


@public.get("/campaign", response={200: s.CampaignOut, **PROBLEMS}, summary="The current campaign")
def get_campaign(request: HttpRequest) -> dict[str, Any]:
    return campaign_out(campaign_active())


@applicant.get(
    "/me", response={200: s.MeOut, **PROBLEMS}, summary="The applicant, as verified through Tunduk"
)
def get_me(request: HttpRequest) -> dict[str, Any]:
    user = require_applicant(request)
    assert user.person is not None
    return me_out(user.person)


@applicant.get(
    "/me/children",
    response={200: list[s.ChildOut], **PROBLEMS},
    summary="Children linked to the applicant",
)
def list_children(request: HttpRequest, refresh: bool = False) -> list[dict[str, Any]]:
    user = require_applicant(request)
    assert user.person is not None
    campaign = campaign_active()
    links = list(child_links_of(user.person))
    if refresh or not links:
        applicant_children_sync(applicant=user.person, actor=actor_of(request))
        links = list(child_links_of(user.person))
    return [child_out(st) for st in children_standings(campaign=campaign, links=links)]


@applicant.post(
    "/me/children",
    response={201: s.ChildOut, **PROBLEMS},
    summary="Link a child by the birth certificate",
)
def link_child(request: HttpRequest, payload: s.ChildLinkIn) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    assert user.person is not None
    try:
        pin_parse(payload.pin)
    except InvalidPin as exc:
        raise FieldError(
            "pin", "invalid_pin", _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
        ) from exc
    link = child_link_by_certificate(
        applicant=user.person,
        pin=payload.pin,
        certificate_series=payload.birth_certificate.series,
        certificate_number=payload.birth_certificate.number,
        actor=actor_of(request),
    )
    return 201, child_out(child_standing(campaign=campaign_active(), link=link))


def child_for(user_person: Person, child_id: str) -> ChildLink:
    if not is_row_id(child_id):
        raise FieldError("child", "invalid_id", _("Enter a valid identifier."))
    link = (
        ChildLink.objects.select_related("child")
        .filter(applicant=user_person, child_id=int(child_id))
        .first()
    )
    if link is None:
        raise Http404
    return link


def school_for(school_id: str) -> School:
    """The school a payload names: an id that cannot name a row is a field error, an unknown
    school is not found."""
    if not is_row_id(school_id):
        raise FieldError("school", "invalid_id", _("Enter a valid identifier."))
    school = School.objects.filter(pk=int(school_id)).first()
    if school is None:
        raise Http404
    return school


@public.get("/schools", response={200: s.SchoolPage, **PROBLEMS}, summary="Schools with free seats")
def list_schools(
    request: HttpRequest,
    child: str | None = None,
    language: s.LanguageCode | None = None,
    district: str | None = None,
    q: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    if child is None:
        # The public list is the same for everyone: at the rush it is served from the cache,
        # counts at most KATTOO_SEATS_CACHE_SECONDS old (a child's own list never is).
        params = [language, district, q, limit, cursor]
        return seats_cached(
            ["schools", *params],
            lambda: _schools_page(None, None, language, district, q, limit, cursor),
        )
    if bearer(request) is None:
        raise RuleViolation("unauthorized")  # a child's own list needs the applicant's token
    request.auth = request.user  # type: ignore[attr-defined]
    user = require_applicant(request)
    assert user.person is not None
    return _schools_page(user.person, child, language, district, q, limit, cursor)


def _schools_page(
    applicant: Person | None,
    child: str | None,
    language: str | None,
    district: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    campaign = campaign_active()
    if applicant is not None and child is not None:
        link = child_for(applicant, child)
        schools = schools_open_to_child(campaign=campaign, child=link.child, applicant=applicant)
    else:
        schools = schools_participating()
    if district:
        schools = schools.filter(
            Q(district__soate=district)
            | Q(district_id=int(district) if is_row_id(district) else -1)
        )
    if q:
        schools = schools.filter(Q(name_ky__icontains=q) | Q(name_ru__icontains=q) | Q(code=q))
    if language:
        schools = schools.filter(
            pools__campaign=campaign, pools__language=language, pools__quota_seats__gt=0
        )
    rows, next_cursor = paginate_by_pk(
        schools.select_related("district").distinct(), limit=limit, cursor=cursor
    )
    pools = pools_of(campaign=campaign, school_ids=[r.pk for r in rows])
    items = []
    for school in rows:
        school_pools = [
            p for p in pools.get(school.pk, []) if language is None or p.language == language
        ]
        items.append(school_out(school, school_pools))
    return {"items": items, "next_cursor": next_cursor}


@public.get("/schools/{school_id}", response={200: s.SchoolOut, **PROBLEMS}, summary="School card")
def get_school(request: HttpRequest, school_id: str) -> dict[str, Any]:
    pk = _int_id(school_id)

    def card() -> dict[str, Any]:
        campaign = campaign_active()
        school = get_object_or_404(schools_participating().select_related("district"), pk=pk)
        return school_out(
            school, pools_of(campaign=campaign, school_ids=[school.pk]).get(school.pk, [])
        )

    return seats_cached(["school", pk], card)


@applicant.post(
    "/applications",
    response={201: s.ApplicationOut, **PROBLEMS},
    summary="Register a child to a school (first come, first served)",
)
def create_application(
    request: HttpRequest,
    payload: s.ApplicationIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    assert user.person is not None
    key = idempotency_key_parse(idempotency_key)
    campaign = campaign_active()

    def create() -> dict[str, Any]:
        link = child_for(user.person, payload.child)  # type: ignore[arg-type]
        school = school_for(payload.school)
        registration_attempt(
            request, "register", child=link.child_id, school=school.pk, language=payload.language
        )
        application = application_register(
            campaign=campaign,
            user=user,
            child=link.child,
            school=school,
            language=payload.language,
            actor=actor_of(request),
        )
        return application_out(application, application_abilities(user, application))

    return idempotent_create(user=user, key=key, payload=payload.dict(), create=create)


def _visible_application(request: HttpRequest, application_id: str) -> Application:
    try:
        pk = uuid.UUID(application_id)
    except ValueError as exc:
        raise Http404 from exc
    visible = applications_visible_to(current_user(request)).select_related("campaign")
    return get_object_or_404(visible.prefetch_related("transitions"), pk=pk)


@applicant.get(
    "/applications", response={200: s.ApplicationPage, **PROBLEMS}, summary="Own applications"
)
def list_applications(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    user = require_applicant(request)
    rows, next_cursor = paginate_by_pk(
        applications_visible_to(user).select_related("campaign").prefetch_related("transitions"),
        limit=limit,
        cursor=cursor,
    )
    abilities = applications_abilities(user, rows)
    return {
        "items": [application_out(a, abilities[a.pk]) for a in rows],
        "next_cursor": next_cursor,
    }


@applicant.get(
    "/applications/{application_id}",
    response={200: s.ApplicationOut, **PROBLEMS},
    summary="One application with its history",
)
def get_application(request: HttpRequest, application_id: str) -> dict[str, Any]:
    application = _visible_application(request, application_id)
    return application_out(application, application_abilities(current_user(request), application))


@applicant.post(
    "/applications/{application_id}/cancel",
    response={200: s.ApplicationOut, **PROBLEMS},
    summary="Cancel; frees the seat at once",
)
def cancel_application(request: HttpRequest, application_id: str) -> dict[str, Any]:
    require_applicant(request)
    application = _visible_application(request, application_id)
    application = application_cancel(application=application, actor=actor_of(request))
    application = (
        Application.objects.select_related("school", "child", "campaign")
        .prefetch_related("transitions")
        .get(pk=application.pk)
    )
    return application_out(application, application_abilities(current_user(request), application))


@public.get(
    "/addresses/lookup",
    response={200: list[s.AddressLookupOut], **PROBLEMS},
    summary="Which schools' microdistricts contain an address",
)
def lookup_address(
    request: HttpRequest, q: str = Query(..., min_length=2, max_length=200)
) -> list[dict[str, Any]]:
    return [address_match_out(m) for m in address_lookup(q)]


class ActIn(s.Schema):
    """The act's details, sent as form fields beside the file (multipart)."""

    kind: str = s.Field(max_length=16)
    number: str = s.Field("", max_length=64)
    issued_on: dt.date | None = None


def _upload_act(
    request: HttpRequest, link: ChildLink, details: ActIn, file: UploadedFile
) -> tuple[int, dict[str, Any]]:
    act = guardian_act_upload(
        link=link,
        kind=details.kind,
        number=details.number,
        issued_on=details.issued_on,
        file=file,
        actor=actor_of(request),
    )
    return 201, guardian_act_out(act)


@applicant.post(
    "/me/children/{child_id}/guardian-document",
    response={201: s.GuardianActOut, **PROBLEMS},
    summary="A legal representative uploads the act for a child (before registering)",
)
def upload_child_act(
    request: HttpRequest, child_id: str, details: Form[ActIn], file: File[UploadedFile]
) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    assert user.person is not None
    return _upload_act(request, child_for(user.person, child_id), details, file)


@applicant.post(
    "/applications/{application_id}/guardian-document",
    response={201: s.GuardianActOut, **PROBLEMS},
    summary="Upload (or replace) the court / social-authority act of an application",
)
def upload_application_act(
    request: HttpRequest, application_id: str, details: Form[ActIn], file: File[UploadedFile]
) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    assert user.person is not None
    application = _visible_application(request, application_id)
    link = ChildLink.objects.filter(applicant=user.person, child_id=application.child_id).first()
    if link is None:
        raise Http404
    return _upload_act(request, link, details, file)


class AddressRequestIn(s.Schema):
    child: str = s.Field(pattern=r"^[0-9]{1,18}$")


@applicant.post(
    "/schools/{school_id}/microdistrict/requests",
    response={201: list[dict[str, Any]], **PROBLEMS},
    summary="Ask a school to add the family's registered address to its microdistrict",
)
def request_microdistrict_address(
    request: HttpRequest, school_id: str, payload: AddressRequestIn
) -> tuple[int, list[dict[str, Any]]]:
    user = require_applicant(request)
    assert user.person is not None
    link = child_for(user.person, payload.child)
    school = get_object_or_404(schools_participating(), pk=_int_id(school_id))
    requests = microdistrict_request_file(
        user=user, child=link.child, school=school, actor=actor_of(request)
    )
    return 201, [
        {"id": str(r.pk), "school": str(r.school_id), "address": r.address_text, "status": r.status}
        for r in requests
    ]


class MePatchIn(s.Schema):
    language: Literal["ky", "ru", "uz", "en"]


@applicant.patch(
    "/me", response={200: s.MeOut, **PROBLEMS}, summary="Keep the language of messages"
)
def patch_me(request: HttpRequest, payload: MePatchIn) -> dict[str, Any]:
    user = require_applicant(request)
    user_language_set(user=user, language=payload.language, actor=actor_of(request))
    assert user.person is not None
    return me_out(user.person)
