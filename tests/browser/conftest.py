"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

Parents are on a phone (``phone_factory``: 360×740, touch); staff of schools, district offices
and the ministry work on computers (``desktop_factory``: 1280×800). Both open a ``Screen``.

The live server runs in a thread of this process, so what the test does to process globals
applies to it: the registry fake installed by ``world`` (``registry_override``) and the clock
frozen with ``kattoo.core.clock.frozen``. Every page a test visits is checked by ``Phone.check``:
axe-core (vendored, injected) reports no WCAG 2.1 A/AA violation, the page weighs under 100 KB
transferred without cache, and a full-page screenshot lands in ``var/screenshots/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.core.cache import cache

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PAGE_BUDGET = 100 * 1024  # bytes transferred without cache (issue 4, item 9)
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A cheap phone: 360×740 CSS pixels, touch, a mobile viewport.
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# An office computer: 1280×800 CSS pixels, a mouse.
DESKTOP: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": False,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium through Playwright against a live server"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent: apt-get install chromium")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server() -> Iterator[Any]:
    """pytest-django's live server, bound to 127.0.0.1 (never ``localhost``, which may be ::1).

    Overriding the fixture keeps pytest-django's helper: a test that uses it gets
    ``transactional_db``, and in-memory SQLite is shared with the server thread."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for these tests (a context per test keeps tests apart), closed after them.

    Playwright's sync API marks its event loop as running in this thread between calls, and
    Django then refuses ORM calls "from an async context" — the test's own queries (the SMS
    code in the outbox, the rows it checks). Nothing runs concurrently (greenlets switch only
    inside Playwright calls), so the guard is lifted while the browser is open."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    """Sign-in rate limits live in the (process-local) cache the server thread shares."""
    cache.clear()


def _violations_text(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


class Screen:
    """One person's device (a parent's phone, an officer's computer): a fresh browser context
    (no cache, no cookies) and its page.

    ``check(step)`` is called after every page the person reaches: it weighs the page, runs
    axe-core on it and saves a full-page screenshot. ``weights`` keeps what it measured."""

    def __init__(
        self, context: BrowserContext, base_url: str, name: str, *, javascript: bool
    ) -> None:
        self.context = context
        self.base_url = base_url
        self.name = name
        self.javascript = javascript
        self.page: Page = context.new_page()
        self.steps = 0
        self.weights: dict[str, int] = {}
        self._requests: list[Request] = []
        # Every navigation is weighed without cache: the browser refetches CSS and scripts.
        cdp = context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.page.on("request", self._on_request)
        # The Content-Security-Policy must never have to refuse anything our pages do.
        self.csp_violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        if javascript:
            # axe-core is injected into every document the context opens (sent to the browser
            # once, not 650 KB through the driver for every page as add_script_tag would).
            context.add_init_script(path=AXE)

    def _on_request(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._requests = []  # a new document: weigh it and what it loads
        self._requests.append(request)

    # Navigation ----------------------------------------------------------------------------
    def goto(self, path: str) -> Page:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        return self.page

    @property
    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    # Checks --------------------------------------------------------------------------------
    def weight(self) -> int:
        self.page.wait_for_load_state("load")
        total = 0
        for request in list(self._requests):
            response = request.response()
            if response is None:
                continue
            response.finished()
            total += max(request.sizes()["responseBodySize"], 0)
        return total

    def axe(self) -> list[dict[str, Any]]:
        result = self.page.evaluate(
            "rules => axe.run(document, {runOnly: {type: 'tag', values: rules},"
            " resultTypes: ['violations']}).then(r => JSON.parse(JSON.stringify(r.violations)))",
            AXE_RULES,
        )
        return list(result)

    def check(self, step: str) -> None:
        label = f"{self.steps:02d}-{step}"
        self.steps += 1
        size = self.weight()
        self.weights[f"{label} {self.path}"] = size
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}-{label}.png"), full_page=True)
        assert size < PAGE_BUDGET, f"{self.path} weighs {size} bytes without cache"
        assert not self.csp_violations, f"{self.path}: {self.csp_violations}"
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        width = self.page.viewport_size["width"] if self.page.viewport_size else "?"
        assert overflow <= 0, f"{self.path} scrolls sideways by {overflow}px at {width}px wide"
        if self.javascript:
            violations = self.axe()
            assert not violations, f"axe on {self.path} ({label}):\n" + _violations_text(violations)


Phone = Screen  # the parents' tests say what they hold


@pytest.fixture
def _screens(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``_screens(device, locale=…, javascript=…)`` opens a ``Screen`` on a device (``PHONE``,
    ``DESKTOP``); a test may open several, of either kind.

    Screenshots go to ``var/screenshots/<test>[-N]-<NN>-<step>.png``, the weights of the pages
    to ``var/screenshots/<test>[-N]-weights.json`` (N counts the screens after the first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w-]+", "_", request.node.name)
    for old in [*SCREENSHOTS.glob(f"{name}-*.png"), *SCREENSHOTS.glob(f"{name}-*.json")]:
        old.unlink()
    contexts: list[BrowserContext] = []
    screens: list[Screen] = []

    def open_screen(device: dict[str, Any], *, locale: str, javascript: bool) -> Screen:
        context = browser.new_context(
            **device, locale=locale, java_script_enabled=javascript, base_url=live_server.url
        )
        contexts.append(context)
        suffix = f"-{len(contexts)}" if contexts[1:] else ""
        screen = Screen(context, live_server.url, name + suffix, javascript=javascript)
        screens.append(screen)
        return screen

    yield open_screen
    for screen in screens:
        if screen.weights:
            weights = json.dumps(screen.weights, indent=1)
            (SCREENSHOTS / f"{screen.name}-weights.json").write_text(weights + "\n")
            print(f"\npage weights of {screen.name} (bytes):", weights)
    for context in contexts:
        context.close()


@pytest.fixture
def phone_factory(_screens: Any) -> Any:
    """``phone_factory(locale="ky-KG", javascript=True)`` opens a parent's phone."""

    def open_phone(*, locale: str = "ky-KG", javascript: bool = True) -> Screen:
        return _screens(PHONE, locale=locale, javascript=javascript)

    return open_phone


@pytest.fixture
def desktop_factory(_screens: Any) -> Any:
    """``desktop_factory(locale="ru-RU")`` opens a staff member's computer (1280×800)."""

    def open_desktop(*, locale: str = "ky-KG", javascript: bool = True) -> Screen:
        return _screens(DESKTOP, locale=locale, javascript=javascript)

    return open_desktop
