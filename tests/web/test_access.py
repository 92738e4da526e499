"""Deny by default: every URL of the web layer declares its access; walking them proves it."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from kattoo.web.access import ACCESS_ATTRIBUTE


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_web_view_declares_access() -> None:
    undeclared = [
        path
        for path, view in walk(get_resolver().url_patterns)
        if not path.startswith(("admin/", "api/")) and getattr(view, ACCESS_ATTRIBUTE, None) is None
    ]
    assert undeclared == []


def test_an_undeclared_view_is_refused(client, settings) -> None:
    from django.http import HttpResponse
    from django.urls import path

    def sneaky(request):
        return HttpResponse("secret")

    import config.urls

    settings.ROOT_URLCONF = type(
        "U", (), {"urlpatterns": [path("sneaky/", sneaky), *config.urls.urlpatterns]}
    )
    response = client.get("/sneaky/")
    assert response.status_code == 404 and b"secret" not in response.content
