"""Uploaded documents (§20 guardian acts). Files live in MEDIA_ROOT, which no URL serves; they
leave only through this view, to the representative who filed them and to staff whose scope
holds the registration they support. Anyone else gets a 404."""

from __future__ import annotations

from typing import Any, cast

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from kattoo.accounts.models import Role
from kattoo.audit.reads import audit_download
from kattoo.core.actors import Actor
from kattoo.enrollment.selectors import guardian_acts_visible_to
from kattoo.people.models import GuardianAct
from kattoo.people.services import document_kind_sniff

from ..access import signed_in_required

MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}


def guardian_act_response(act: GuardianAct) -> HttpResponse:
    """The act as a download whose type is read from the bytes again (never from the stored
    name), so a browser neither guesses a type nor renders it inside our pages."""
    if not act.file:
        raise Http404
    handle = act.file.open("rb")
    kind = document_kind_sniff(handle.read(16))
    handle.seek(0)
    if kind is None:
        handle.close()
        raise Http404
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"guardian-act-{act.pk}.{kind}",
        content_type=MEDIA_TYPES[kind],
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A FileResponse streams the file; the decorators only pass it through.
    return cast(HttpResponse, response)


def act_file_format(response: HttpResponse) -> str:
    """The sent act's kind (pdf, jpeg, png), as its audit row names it."""
    return {v: k for k, v in MEDIA_TYPES.items()}.get(response["Content-Type"], "")


@signed_in_required
def guardian_act_file(request: HttpRequest, act_id: int) -> HttpResponse:
    user: Any = request.user
    act = get_object_or_404(guardian_acts_visible_to(user), pk=act_id)
    response = guardian_act_response(act)
    if user.role != Role.APPLICANT:
        # Staff taking a representative's act away (§7); the representative's own copy is not.
        audit_download(
            actor=Actor(user=user, channel="web", request_id=getattr(request, "request_id", "")),
            what="guardian_act",
            file_format=act_file_format(response),
            obj=act,
        )
    return response
