"""Deny by default (the get.gov habit): every view declares who may use it, and a middleware
refuses any view that does not. A test walks every URL to prove it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from kattoo.accounts.models import STAFF_ROLES, Role
from kattoo.core.metrics import scraper_allowed

ACCESS_ATTRIBUTE = "kattoo_access"
View = Callable[..., HttpResponse]


def public(view: View) -> View:
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def applicant_required(view: View) -> View:
    """Signed-in applicants only; anyone else is sent to sign in (or gets 404 if staff)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('web:login')}?next={request.path}")
        if user.role != Role.APPLICANT or user.person_id is None:
            raise Http404
        return view(request, *args, **kwargs)

    setattr(wrapper, ACCESS_ATTRIBUTE, "applicant")
    return wrapper


def staff_required(*roles: str) -> Callable[[View], View]:
    """Staff of the given roles, signed in with a password *and* a TOTP code (django-otp).
    Anonymous visitors and staff whose session has no verified second factor are sent to the
    staff sign-in; anyone outside the roles gets a 404, as if the page did not exist."""
    allowed = frozenset(roles or STAFF_ROLES)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            login = f"{reverse('web:staff:login')}?{urlencode({'next': request.get_full_path()})}"
            if not user.is_authenticated:
                return redirect(login)
            if user.role not in allowed:
                raise Http404
            if not user.is_verified():
                return redirect(login)
            return view(request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, "staff:" + ",".join(sorted(allowed)))
        return wrapper

    return decorator


def metrics_scraper(view: View) -> View:
    """The Prometheus scraper only (a token, or a direct call from the allow-list:
    ``kattoo.core.metrics.scraper_allowed``); anyone else gets a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not scraper_allowed(request):
            raise Http404
        return view(request, *args, **kwargs)

    setattr(wrapper, ACCESS_ATTRIBUTE, "metrics")
    return wrapper


def signed_in_required(view: View) -> View:
    """Applicants and staff alike (staff with the second factor); the view narrows what each
    may see to their own scope. Anonymous visitors are sent to the parents' sign-in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('web:login')}?{urlencode({'next': request.path})}")
        if user.role == Role.APPLICANT:
            if user.person_id is None:
                raise Http404
        elif not user.is_verified():
            staff_login = reverse("web:staff:login")
            return redirect(f"{staff_login}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    setattr(wrapper, ACCESS_ATTRIBUTE, "signed_in")
    return wrapper


# Views of Django itself and of the API router, which guard themselves.
EXEMPT_PREFIXES = ("/admin/", "/api/", "/i18n/", "/static/")


class AccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith(EXEMPT_PREFIXES):
            return None
        if getattr(view_func, ACCESS_ATTRIBUTE, None) is None:
            if settings.DEBUG:
                raise RuntimeError(f"view {view_func!r} declares no access rule")
            raise Http404
        return None
