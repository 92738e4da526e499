"""Admission control: a process at its limit answers 503 + Retry-After at once, changes
nothing, and never refuses health checks."""

from __future__ import annotations

import json
import threading

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from kattoo.web.admission import AdmissionMiddleware


class Held:
    """A view that stays in flight until released, holding one admission slot."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls += 1
        self.entered.set()
        self.release.wait(5)
        return HttpResponse("ok")


def busy_middleware() -> tuple[AdmissionMiddleware, Held, threading.Thread]:
    view = Held()
    with override_settings(KATTOO_ADMISSION_LIMIT=1, KATTOO_ADMISSION_RETRY_AFTER=2):
        middleware = AdmissionMiddleware(view)
    first = threading.Thread(target=middleware, args=(RequestFactory().get("/api/v1/schools"),))
    first.start()
    assert view.entered.wait(5)
    return middleware, view, first


def test_a_full_process_answers_503_problem_with_retry_after() -> None:
    middleware, view, first = busy_middleware()
    try:
        request = RequestFactory().post("/api/v1/drafts/1/submit", HTTP_ACCEPT_LANGUAGE="ru")
        response = middleware(request)
        assert response.status_code == 503
        assert 1 <= int(response["Retry-After"]) <= 4
        assert response["Content-Type"].startswith("application/problem+json")
        body = json.loads(response.content)
        assert body["code"] == "service_busy" and body["status"] == 503
        assert "Ничего не изменено" in body["detail"]  # in the language the client asked for
        assert response["Content-Language"] == "ru"
        assert view.calls == 1  # the view never ran for the refused request
    finally:
        view.release.set()
        first.join()
    # The slot is back: the next request is served.
    assert middleware(RequestFactory().get("/api/v1/schools")).status_code == 200


def test_web_pages_get_a_translated_page_and_health_is_never_refused() -> None:
    middleware, view, first = busy_middleware()
    try:
        page = middleware(RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="en"))
        assert page.status_code == 503 and page["Retry-After"]
        assert b"Too many people" in page.content
        assert page["Content-Type"].startswith("text/html")
        view.release.set()  # health passes even while the slot is taken
        assert middleware(RequestFactory().get("/readyz")).status_code == 200
    finally:
        view.release.set()
        first.join()


def test_off_by_default() -> None:
    with override_settings(KATTOO_ADMISSION_LIMIT=0):
        middleware = AdmissionMiddleware(lambda request: HttpResponse("ok"))
    assert middleware.slots is None
    assert middleware(RequestFactory().get("/")).status_code == 200
