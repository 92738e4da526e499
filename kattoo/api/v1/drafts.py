"""Drafts: prepare before the opening, submit in one request at the opening (issue 4 §4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Header, Router, Schema
from pydantic import Field

from kattoo.accounts.models import User
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import localized_name, schools_participating
from kattoo.core import clock
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.fastpath import SeatRefused, draft_submit_fast
from kattoo.enrollment.idempotency import idempotency_key_parse, idempotent_create
from kattoo.enrollment.models import Draft
from kattoo.enrollment.services import (
    draft_delete,
    draft_save,
    draft_submit,
)

from ..auth import bearer, require_applicant
from ..problems import registration_attempt
from . import schemas as s
from .routes import PROBLEMS, actor_of, child_for, is_row_id
from .serializers import application_out, local, registration_out

drafts = Router(tags=["applicant"], auth=bearer)

# Set on the request by the slim handler in front of Django (kattoo/api/hot.py) when the fast
# path it ran handed the submit over (``None``): the ordinary path decides at once.
FAST_PATH_TRIED = "kattoo.fast_path_tried"


class DraftIn(Schema):
    school: str = Field(pattern=r"^[0-9]{1,18}$")
    language: s.LanguageCode


class DraftOut(Schema):
    child: str
    school: str
    school_name: str
    language: str
    route: str
    checked_at: dt.datetime
    opens_at: dt.datetime
    server_time: dt.datetime


def draft_out(draft: Draft) -> dict[str, Any]:
    return {
        "child": str(draft.child_id),
        "school": str(draft.school_id),
        "school_name": localized_name(draft.school, "name"),
        "language": draft.language,
        "route": draft.route,
        "checked_at": local(draft.checked_at),
        "opens_at": local(draft.campaign.stage1_starts_at),
        "server_time": local(clock.now()),
    }


def _draft(request: HttpRequest, child_id: str) -> Draft:
    user = require_applicant(request)
    assert user.person is not None
    link = child_for(user.person, child_id)
    draft = (
        Draft.objects.select_related("campaign", "school", "child", "user")
        .filter(user=user, child=link.child, campaign=campaign_active())
        .first()
    )
    if draft is None:
        raise Http404
    return draft


def _draft_attempt(request: HttpRequest, user: User, child_id: int) -> None:
    choice = (
        Draft.objects.filter(user=user, child_id=child_id, campaign=campaign_active())
        .values_list("school_id", "language")
        .first()
    )
    school, language = choice if choice else (None, None)
    registration_attempt(request, "draft_submit", child=child_id, school=school, language=language)


@drafts.get("/drafts", response={200: list[DraftOut], **PROBLEMS}, summary="Prepared registrations")
def list_drafts(request: HttpRequest) -> list[dict[str, Any]]:
    user = require_applicant(request)
    rows = Draft.objects.select_related("campaign", "school").filter(
        user=user, campaign=campaign_active()
    )
    return [draft_out(d) for d in rows]


@drafts.put(
    "/drafts/{child_id}",
    response={200: DraftOut, **PROBLEMS},
    summary="Prepare (and check now) the registration of a child",
)
def put_draft(request: HttpRequest, child_id: str, payload: DraftIn) -> dict[str, Any]:
    user = require_applicant(request)
    assert user.person is not None
    link = child_for(user.person, child_id)
    school = schools_participating().filter(pk=int(payload.school)).first()
    if school is None:
        raise Http404
    registration_attempt(
        request, "draft_save", child=link.child_id, school=school.pk, language=payload.language
    )
    draft = draft_save(
        campaign=campaign_active(),
        user=user,
        child=link.child,
        school=school,
        language=payload.language,
        actor=actor_of(request),
    )
    return draft_out(draft)


@drafts.post(
    "/drafts/{child_id}/submit",
    response={201: s.ApplicationOut, **PROBLEMS},
    summary="Submit the draft: one request at the opening",
)
def submit_draft(
    request: HttpRequest,
    child_id: str,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    key = idempotency_key_parse(idempotency_key)
    payload = {"draft": child_id}
    # The opening minute: two statements when everything is allowed (ADR 0015); any other
    # answer is decided below, on the ordinary path.
    if is_row_id(child_id) and not request.META.get(FAST_PATH_TRIED):
        try:
            body = draft_submit_fast(
                user=user,
                child_id=int(child_id),
                key=key,
                fingerprint_payload=payload,
                actor=actor_of(request),
                respond=registration_out,
            )
        except SeatRefused:
            # A full pool, told by the statement itself; the fast path wrote the refusal's
            # audit row with the draft's choice it read (issue 15): nothing more to record.
            raise
        except RuleViolation:
            # Any other refusal of the fast path: the audit row names the draft's choice,
            # read only now, so the accepted path stays as it is (ADR 0015).
            _draft_attempt(request, user, int(child_id))
            raise
        if body is not None:
            return 201, body

    def create() -> dict[str, Any]:
        draft = _draft(request, child_id)
        registration_attempt(
            request,
            "draft_submit",
            child=draft.child_id,
            school=draft.school_id,
            language=draft.language,
        )
        application = draft_submit(draft=draft, actor=actor_of(request))
        return application_out(application, application_abilities(user, application))

    return idempotent_create(user=user, key=key, payload=payload, create=create)


@drafts.delete("/drafts/{child_id}", response={204: None, **PROBLEMS}, summary="Drop the draft")
def delete_draft(request: HttpRequest, child_id: str) -> tuple[int, None]:
    draft_delete(draft=_draft(request, child_id), actor=actor_of(request))
    return 204, None
