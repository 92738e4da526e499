"""The production layout (issue 11, "Deployment kit"; ADR 0019): nginx with exactly
``deploy/nginx/kattoo.conf`` (filled by ``deploy/nginx/render.sh``, as docs/deployment.md
says) in front of granian running the production settings, over a PostgreSQL cluster of the
test's own, with the static files ``collectstatic`` wrote.

A page comes through nginx over TLS (the application sees ``X-Forwarded-Proto: https``, so its
SSL redirect does not loop), its CSS and JS have hashed names and come back from nginx
compressed and cacheable for a year; the same files come from the application itself
(WhiteNoise) when a request reaches it directly."""

# ruff: noqa: S603, S501 - fixed programs (granian, manage.py) with arguments built here;
# TLS to our own throwaway certificate, not verified
from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.front import ROOT, nginx_binary, nginx_front, stop, wait_for
from kattoo.web.admission import busy_pages

from ..reliability import pgcluster
from ..reliability.pgcluster import TempCluster, free_port

GRANIAN = Path(sys.executable).parent / "granian"
SERVE = [str(GRANIAN), "--interface", "wsgi", "--host", "127.0.0.1", "--workers", "1"]
SERVE += ["--blocking-threads", "4"]
YEAR = "max-age=31536000"

pytestmark = [pytest.mark.postgres]


@dataclass
class Layout:
    https: str  # nginx, TLS
    http: str  # nginx, plain HTTP (redirects)
    app: str  # granian directly
    static_root: Path
    logs: Path


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (scripts/ensure-bench-tools.sh installs it)")
    if not pgcluster.available():
        pytest.skip("no PostgreSQL server binaries for a cluster of the test's own")
    work = tmp_path_factory.mktemp("deploy")
    static_root, logs, var = work / "static", work / "logs", work / "var"
    for directory in (logs, var):
        directory.mkdir()
    with TempCluster() as cluster:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.deploy.settings_production_like",
            "DJANGO_SECRET_KEY": "deploy-tests-only-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DATABASE_URL": cluster.createdb("kattoo"),
            "KATTOO_FIELD_KEYS": "deploy-tests-only-key",
            "KATTOO_VAR_DIR": str(var),
            "KATTOO_STATIC_ROOT": str(static_root),
            "KATTOO_LOG_FORMAT": "plain",
            "KATTOO_SSL_REDIRECT": "1",
        }
        manage = [sys.executable, "manage.py"]
        # The operator's install steps (docs/deployment.md), side by side to save time.
        checked = subprocess.Popen(
            [*manage, "check", "--deploy", "--database", "default"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        steps = [
            subprocess.Popen([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env),
            subprocess.Popen([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env),
        ]
        said, _ = checked.communicate(timeout=300)
        assert [step.wait(300) for step in steps] == [0, 0]
        # The test's small cluster (tests/reliability/pgcluster.py) is durable, so the check
        # passes, and names its small WAL and memory as deploy/postgres/kattoo.conf would not.
        assert checked.returncode == 0, said
        assert "kattoo.W105" in said and "kattoo.W107" in said, said
        assert "kattoo.E10" not in said, said

        app_port = free_port()
        app_log = logs / "granian.log"
        granian = subprocess.Popen(
            [*SERVE, "--port", str(app_port), "config.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=app_log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            app = f"http://127.0.0.1:{app_port}"
            wait_for(f"{app}/healthz", granian, app_log)
            front = nginx_front(
                work, upstream=f"127.0.0.1:{app_port}", static_root=static_root, logs=logs
            )
            with front as nginx:
                yield Layout(
                    https=nginx.https, http=nginx.http, app=app, static_root=static_root, logs=logs
                )
        finally:
            stop(granian)


def assets(html: str) -> list[str]:
    """The stylesheets and scripts a page links."""
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    return links + scripts


@pytest.mark.parametrize("path", ["/", "/staff/login/"])
def test_page_through_nginx_with_compressed_cacheable_assets(layout: Layout, path: str) -> None:
    with httpx.Client(base_url=layout.https, verify=False, timeout=10) as client:
        page = client.get(path)
        # 200, not a redirect: the app saw X-Forwarded-Proto: https from nginx.
        assert page.status_code == 200, (page.status_code, page.headers)
        urls = assets(page.text)
        assert any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls)
        for url in urls:
            assert re.search(r"^/static/.+\.[0-9a-f]{12}\.(css|js)$", url), url
            answer = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert answer.status_code == 200, url
            assert answer.headers["Content-Encoding"] == "gzip", url
            assert YEAR in answer.headers["Cache-Control"], answer.headers
            assert "immutable" in answer.headers["Cache-Control"]
            assert answer.headers["Vary"] == "Accept-Encoding"
            # nginx sent collectstatic's .gz copy; unpacked (by httpx) it is the file.
            on_disk = layout.static_root / url.removeprefix("/static/")
            gz = on_disk.with_name(on_disk.name + ".gz")
            assert answer.headers["Content-Length"] == str(gz.stat().st_size)
            assert answer.content == on_disk.read_bytes() == gzip.decompress(gz.read_bytes())
            js = ("application/javascript", "text/javascript")
            kinds = ("text/css",) if url.endswith(".css") else js
            assert answer.headers["Content-Type"].startswith(kinds)


def test_static_from_nginx_without_gzip_and_by_unhashed_name(layout: Layout) -> None:
    with httpx.Client(base_url=layout.https, verify=False, timeout=10) as client:
        plain = client.get("/static/web/kattoo.css", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
        # A name without a hash may change at the next release: kept a minute only.
        assert plain.headers["Cache-Control"] == "public, max-age=60"
        assert client.get("/static/web/no-such-file.css").status_code == 404


def test_collectstatic_writes_the_busy_pages_nginx_answers_with(layout: Layout) -> None:
    """deploy/nginx/kattoo.conf serves STATIC_ROOT/busy/<language>.json|html when the
    application is full (ADR 0035; tests/deploy/test_nginx_busy.py): the operator's
    collectstatic puts them there, and they cannot be fetched as ordinary URLs."""
    for name, body in busy_pages().items():
        assert (layout.static_root / "busy" / name).read_bytes() == body
    assert httpx.get(f"{layout.https}/_busy/ky.json", verify=False).status_code != 200


def test_static_from_the_application_directly(layout: Layout) -> None:
    """WhiteNoise: a balancer without nginx (or a probe) gets the same files, cacheable."""
    # The balancer's probe over plain HTTP is not redirected to HTTPS.
    assert httpx.get(f"{layout.app}/healthz", timeout=10).status_code == 200
    page = httpx.get(
        f"{layout.app}/staff/login/", headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    assert page.status_code == 200
    for url in assets(page.text):
        answer = httpx.get(
            layout.app + url,
            headers={"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"},
            timeout=10,
        )
        assert answer.status_code == 200, url
        assert answer.headers["Content-Encoding"] == "gzip"
        assert YEAR in answer.headers["Cache-Control"]
        assert "immutable" in answer.headers["Cache-Control"]


def test_plain_http_redirects_to_https(layout: Layout) -> None:
    answer = httpx.get(f"{layout.http}/staff/login/", timeout=10)
    assert answer.status_code == 301
    assert answer.headers["Location"].startswith("https://")


def test_proxy_headers_reach_the_application(layout: Layout) -> None:
    with httpx.Client(base_url=layout.https, verify=False, timeout=10) as client:
        # The request id of a balancer in front is kept; nginx makes one otherwise.
        kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234"})
        assert kept.headers["X-Request-Id"] == "lb-1234"
        before = time.time()
        made = client.get("/healthz")
        after = time.time()
        # Time first, to the millisecond, then nginx's random id (ADR 0041): the time nginx
        # read the request at.
        made_id = made.headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9]{10}\.[0-9]{3}-[0-9a-f]{32}", made_id)
        made_at = float(made_id.split("-")[0])
        assert before <= made_at + 0.001 and made_at <= after + 0.001
        # Secure cookies over HTTPS: Django knows the request came over TLS.
        login = client.get("/staff/login/")
        assert "secure" in login.headers.get("Set-Cookie", "").lower()
        # Monitoring and uploaded files are not published on the public address.
        assert client.get("/metrics").status_code == 404
        assert client.get("/media/anything.pdf").status_code == 404
    # The access log is buffered (flushed at least every second): wait for the line.
    path = layout.logs / "kattoo.access.log"
    deadline = time.monotonic() + 30  # a liveness guard, not a timing claim
    while "lb-1234" not in (log := path.read_text()):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.05)
    line = next(ln for ln in log.splitlines() if "lb-1234" in ln)
    # The application answered (its status as the upstream's: ADR 0035 tells them apart).
    assert "GET /healthz" in line and line.endswith(" 200")
    assert not line.endswith(" - 200")


def test_body_size_limit(layout: Layout) -> None:
    """Bodies above the largest upload (a catalog file) stop at nginx."""
    with httpx.Client(base_url=layout.https, verify=False, timeout=30) as client:
        answer = client.post(
            "/api/v1/campaigns/none/catalog",
            content=b"x" * (26 * 1024 * 1024),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert answer.status_code == 413
