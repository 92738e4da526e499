"""Fraud signals (kattoo/fraud) for district officers and the ministry: the list to review, in
scope, and the review (legitimate or referred, audited). Other roles: 403; a signal out of
scope: 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kattoo.campaigns.selectors import campaign_active
from kattoo.core.errors import RuleViolation
from kattoo.fraud.models import SignalReview
from kattoo.fraud.selectors import Signal, scope_of, signal_visible, signals_visible_to
from kattoo.fraud.services import NOTE_MAX, signal_review

from ..auth import bearer, current_user
from .routes import PROBLEMS, actor_of
from .serializers import local

fraud = Router(tags=["fraud"], auth=bearer)
Kind = Literal["many_children", "crowded_address", "recent_address", "reused_act", "late_teacher"]


class ReviewOut(Schema):
    status: str
    note: str
    reviewed_by: str
    reviewed_at: dt.datetime


class SignalOut(Schema):
    kind: str
    key: str
    label: str
    why: str
    numbers: dict[str, Any]
    applications: list[str]
    review: ReviewOut | None


class SignalList(Schema):
    items: list[SignalOut]


class SignalQuery(Schema):
    kind: Kind | None = None


class ReviewIn(Schema):
    kind: Kind
    key: str = Field(min_length=1, max_length=200)
    status: Literal["legitimate", "referred"]
    note: str = Field("", max_length=NOTE_MAX)


def review_out(review: SignalReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "status": review.status,
        "note": review.note,
        "reviewed_by": review.reviewed_by.get_username(),
        "reviewed_at": local(review.reviewed_at),
    }


def signal_out(signal: Signal) -> dict[str, Any]:
    return {
        "kind": signal.kind,
        "key": signal.key,
        "label": signal.label,
        "why": signal.why,
        "numbers": signal.numbers,
        "applications": [str(a.pk) for a in signal.applications],
        "review": review_out(signal.review),
    }


def _overseer(request: HttpRequest) -> Any:
    user = current_user(request)
    if scope_of(user) is None:
        raise RuleViolation("forbidden")
    return user


@fraud.get(
    "/fraud/signals",
    response={200: SignalList, **PROBLEMS},
    summary="Fraud signals in your scope: to review, never refusals",
)
def signals(request: HttpRequest, query: Query[SignalQuery]) -> dict[str, Any]:
    user = _overseer(request)
    found = signals_visible_to(user, campaign_active(), kind=query.kind)
    return {"items": [signal_out(s) for s in found]}


@fraud.post(
    "/fraud/reviews",
    response={200: SignalOut, **PROBLEMS},
    summary="Review a signal: legitimate, or referred (with a note)",
)
def review(request: HttpRequest, payload: ReviewIn) -> dict[str, Any]:
    user = _overseer(request)
    campaign = campaign_active()
    signal = signal_visible(user, campaign, kind=payload.kind, key=payload.key)
    if signal is None:
        raise Http404
    signal.review = signal_review(
        campaign=campaign,
        kind=payload.kind,
        key=payload.key,
        status=payload.status,
        note=payload.note,
        actor=actor_of(request),
    )
    return signal_out(signal)
