"""RFC 9457 problem documents, translated by Accept-Language (API.md "Conventions")."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import ConfigDict

from kattoo.audit.refusals import Attempt, audit_refusal, is_refusal
from kattoo.core.actors import Actor
from kattoo.core.errors import ERRORS, PROBLEM_TYPE, FieldError, InvalidFields, RuleViolation
from kattoo.core.unavailable import DATABASE_DOWN, RETRY_AFTER_SECONDS, database_down_log

logger = logging.getLogger("kattoo.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(Schema):
    field: str
    code: str
    message: str


class Problem(Schema):
    """An RFC 9457 problem document as ``problem()`` writes it; ``code`` is stable."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None


# Every operation may answer these (bad JSON, no token, role, scope, domain refusal, body too
# large, not JSON, validation, rate limit, registry outage); 500 is never documented: it is a bug.
PROBLEM_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)


def problem_media_type(openapi: dict[str, Any]) -> dict[str, Any]:
    """Ninja documents every response as application/json; problem documents are sent as
    application/problem+json (API.md "Conventions"), so the document says so."""
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and "application/json" in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content["application/json"]}
    return openapi


# Pydantic's error types, said in our words (every message translated).
_FIELD_MESSAGES = {
    "missing": lambda: _("This field is required."),
    "string_type": lambda: _("Enter text."),
    "int_parsing": lambda: _("Enter a whole number."),
    "int_type": lambda: _("Enter a whole number."),
    "uuid_parsing": lambda: _("Enter a valid identifier."),
    "uuid_type": lambda: _("Enter a valid identifier."),
    "literal_error": lambda: _("Choose one of the allowed values."),
    "enum": lambda: _("Choose one of the allowed values."),
    "string_too_long": lambda: _("The value is too long."),
    "string_too_short": lambda: _("The value is too short."),
    "string_pattern_mismatch": lambda: _("The value has the wrong format."),
    "date_from_datetime_parsing": lambda: _("Enter a date as YYYY-MM-DD."),
    "date_parsing": lambda: _("Enter a date as YYYY-MM-DD."),
    "json_invalid": lambda: _("The request body is not valid JSON."),
    "model_attributes_type": lambda: _("The request body must be a JSON object."),
    "dict_type": lambda: _("The value must be a JSON object."),
    "greater_than_equal": lambda: _("The value is too small."),
    "less_than_equal": lambda: _("The value is too large."),
}


def problem_document(
    code: str,
    *,
    status: int | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem document of ``code`` in the active language (``problem`` sends it; the slim
    submit handler, kattoo/api/hot.py, too)."""
    default_status, title = ERRORS[code]
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": str(title),
        "status": status or default_status,
        "detail": detail or str(title),
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem(
    request: HttpRequest,
    code: str,
    *,
    status: int | None = None,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body = problem_document(code, status=status, detail=detail, errors=errors, extra=extra)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=body["status"],
        content_type="application/problem+json; charset=utf-8",
    )
    response["Content-Language"] = getattr(request, "LANGUAGE_CODE", "ky")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (config/urls.py): what Django refuses before any view runs — a ``Host``
    header it does not allow, another suspicious request — answered as the API answers on the
    API's paths (a problem document, API.md "Conventions"; the fuzz sent such a Host), and as
    Django's page elsewhere."""
    if on_the_api(request):
        return problem(request, "bad_request")
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404`` (config/urls.py): a path no route of the API knows (``/api/v2/…``, a
    mistyped operation) is a problem document like any other refusal of the API; a page's
    path gets Django's page."""
    if on_the_api(request):
        return problem(request, "not_found")
    return defaults.page_not_found(request, exception)


def on_the_api(request: HttpRequest) -> bool:
    """Whether a request is the API's, whose refusals are problem documents (API.md)."""
    return request.path_info.startswith("/api/")


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors:
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "payload", "query", "path", "header")
        ]
        kind = str(error.get("type", "invalid"))
        message = _FIELD_MESSAGES.get(kind)
        errors.append(
            {
                "field": ".".join(location) or "body",
                "code": kind,
                "message": str(message()) if message else str(_("The value is not valid.")),
            }
        )
    return errors


# A registration attempt (register, a draft, a waitlist join, an offer accepted) marks its
# request with what it tried; the handler records a rule's refusal of it (§7, audit/refusals).
_ATTEMPT = "_kattoo_registration_attempt"


def registration_attempt(request: HttpRequest, attempt: Attempt, **ids: Any) -> None:
    """Mark the request as a registration attempt on these ids (child, school, language, …)."""
    setattr(request, _ATTEMPT, (attempt, ids))


def _refusal_audit(request: HttpRequest, exc: RuleViolation) -> bool:
    """The handler runs after the view's transaction was rolled back: the row is one INSERT of
    its own, and the accepted path (which never raises) writes nothing more. Whether a row
    was written (a registration attempt the regulation refused)."""
    marked = getattr(request, _ATTEMPT, None)
    if marked is None or not is_refusal(exc):
        return False
    attempt, ids = marked
    actor = Actor(
        user=getattr(request, "auth", None),
        channel="api",
        request_id=getattr(request, "request_id", ""),
    )
    variant = exc.params.get("variant")
    audit_refusal(actor=actor, code=exc.code, variant=variant, attempt=attempt, **ids)
    return True


def quiet(response: HttpResponse) -> HttpResponse:
    """No ``django.request`` warning for this answer: a registration the regulation refused is
    an audit event of its own (§7) and a count in the metrics; Django's "Conflict: /path" line
    would repeat it for every refused parent — a hundred thousand in the opening's minutes, a
    log collector's rate limit (journald's default: 10,000 lines in 30 s a service) reached
    and the errors after them dropped."""
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own mark
    return response


def install(api: NinjaAPI) -> None:
    @api.exception_handler(RuleViolation)
    def rule_violation(request: HttpRequest, exc: RuleViolation) -> HttpResponse:
        audited = _refusal_audit(request, exc)
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        if exc.params.get("retry_after"):  # a lockout tells how long to wait
            headers = {"Retry-After": str(int(exc.params["retry_after"]))}
        errors = exc.as_dicts() if isinstance(exc, InvalidFields) else None
        response = problem(request, exc.code, detail=exc.detail, headers=headers, errors=errors)
        return quiet(response) if audited else response

    @api.exception_handler(FieldError)
    def field_error(request: HttpRequest, exc: FieldError) -> HttpResponse:
        return problem(
            request,
            "validation_error",
            errors=[{"field": exc.field, "code": exc.code, "message": str(exc.message)}],
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _field_errors(exc)
        if any(e["code"] in ("json_invalid",) for e in errors):
            return problem(request, "bad_request", detail=errors[0]["message"], errors=errors)
        return problem(request, "validation_error", errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(request, "unauthorized", headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, "not_found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem(request, "payload_too_large")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        by_status = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            413: "payload_too_large",
            429: "rate_limited",
        }
        return problem(
            request, by_status.get(exc.status_code, "bad_request"), status=exc.status_code
        )

    def database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
        database_down_log(request, exc)
        return problem(
            request, "service_unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    for down in DATABASE_DOWN:  # a restart or failover: 503 to retry, not a 500
        api.exception_handler(down)(database_down)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return problem(request, "server_error")
