"""The "busy, retry" page a parent's phone gets when the server is full. nginx serves it
beyond max_conns (ADR 0035), and the application's admission control serves the same bytes.
It must be readable at phone width in the reader's language, with nothing more to fetch."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from kattoo.web.admission import busy_pages

from .conftest import AXE, PHONE, SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["ky", "ru", "uz", "en"])
def test_the_busy_page_reads_on_a_phone(browser: Browser, language: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**PHONE, locale=language)
    context.add_init_script(path=AXE)
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.set_content(busy_pages()[f"{language}.html"].decode())
        page.screenshot(path=str(SCREENSHOTS / f"busy-page-{language}.png"), full_page=True)
        assert page.evaluate("document.documentElement.lang") == language
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('p')).fontSize)")
        assert size >= 16
        assert requests == []  # no stylesheet, script or image from a server that is full
        violations = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => v.id))"
        )
        assert violations == []
    finally:
        context.close()
