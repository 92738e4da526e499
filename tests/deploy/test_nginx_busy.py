"""Overload answered by nginx (ADR 0035): exactly ``deploy/nginx/kattoo.conf`` as
``deploy/nginx/render.sh`` fills it, in front of a stand-in application that holds requests
as long as the test wants. Beyond ``KATTOO_UPSTREAM_MAX_CONNS`` requests in flight, nginx
answers 503 itself with the application's own busy body (``manage.py busy_pages``) in the
reader's language and a jittered Retry-After; the application never sees those requests.
Its own answers, its own 503 included, pass through untouched."""

# ruff: noqa: S501 - TLS to our own throwaway certificate, not verified
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bench.flash_crowd import front_answers
from bench.front import busy_static_root, nginx_binary, nginx_front
from kattoo.web.admission import busy_pages

from ..reliability.pgcluster import free_port

pytestmark = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed (scripts/ensure-bench-tools.sh)"
)


@dataclass
class StandIn:
    """An application that answers 201 to a POST once ``release`` is set, 503 of its own to
    ``/own-503``, and 200 to everything else; it counts what reached it."""

    release: threading.Event = field(default_factory=threading.Event)
    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    seen: list[str] = field(default_factory=list)


def serve(stand_in: StandIn) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if status == 503:
                self.send_header("Retry-After", "7")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            stand_in.seen.append(self.path)
            if self.path == "/own-503":
                self.answer(503, b'{"code": "the application itself"}', "application/json")
            else:
                self.answer(200, b"ok")

        def do_POST(self) -> None:
            stand_in.seen.append(self.path)
            stand_in.entered.release()
            stand_in.release.wait(10)
            self.answer(201, b'{"id": "x"}', "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Busy:
    https: str
    stand_in: StandIn
    logs: Path
    upstream: str


def access_lines(busy: Busy, request_id: str) -> list[str]:
    """The access log's lines of a request id (buffered by nginx: flushed within a second)."""
    path = busy.logs / "kattoo.access.log"
    deadline = time.monotonic() + 30  # a liveness guard, not a timing claim
    while True:
        lines = [ln for ln in path.read_text().splitlines() if f" {request_id} " in ln]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@contextmanager
def stand_in_front(work: Path, *, max_conns: int) -> Iterator[Busy]:
    """The rendered template in front of a stand-in application, ``max_conns`` at a time."""
    stand_in = StandIn()
    server = serve(stand_in)
    upstream = f"127.0.0.1:{server.server_address[1]}"
    front = nginx_front(
        work, upstream=upstream, static_root=busy_static_root(work), max_conns=max_conns
    )
    try:
        with front as nginx:
            yield Busy(https=nginx.https, stand_in=stand_in, logs=nginx.logs, upstream=upstream)
    finally:
        stand_in.release.set()
        server.shutdown()


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Busy]:
    with stand_in_front(tmp_path_factory.mktemp("nginx-busy"), max_conns=1) as front:
        yield front


def post(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url, headers=headers, verify=False, timeout=10)


@pytest.fixture
def one_in_flight(busy: Busy) -> Iterator[threading.Thread]:
    """One registration held inside the application: the upstream is at max_conns=1."""
    busy.stand_in.release.clear()
    answers: list[httpx.Response] = []
    held = threading.Thread(
        target=lambda: answers.append(post(f"{busy.https}/api/v1/drafts/held/submit"))
    )
    held.start()
    assert busy.stand_in.entered.acquire(timeout=10), "the held request never reached the app"
    yield held
    busy.stand_in.release.set()
    held.join(10)
    assert [a.status_code for a in answers] == [201]


def test_beyond_max_conns_nginx_answers_503_in_the_readers_language(
    busy: Busy, one_in_flight: threading.Thread
) -> None:
    seen_before = len(busy.stand_in.seen)
    r = post(
        f"{busy.https}/api/v1/drafts/7/submit",
        **{"Accept-Language": "fr-CH, fr;q=0.9, ru;q=0.8", "X-Request-Id": "probe-1"},
    )
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json; charset=utf-8"
    assert r.content == busy_pages()["ru.json"]
    assert r.json()["code"] == "service_busy"
    assert r.headers["content-language"] == "ru"
    assert 1 <= int(r.headers["retry-after"]) <= 4
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-request-id"] == "probe-1"
    page = httpx.get(f"{busy.https}/", headers={"Accept-Language": "en-US,en;q=0.9"}, verify=False)
    assert page.status_code == 503
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == busy_pages()["en.html"]
    # Neither refusal reached the application; the access log says nginx answered them
    # itself (no server of the upstream group was free), and wrote no error line for them.
    assert len(busy.stand_in.seen) == seen_before
    lines = access_lines(busy, "probe-1")
    assert len(lines) == 1 and lines[0].endswith(" probe-1 kattoo_app 502")
    assert "no live upstreams" not in (busy.logs / "kattoo.error.log").read_text()


def test_probes_are_never_refused_by_nginx(busy: Busy, one_in_flight: threading.Thread) -> None:
    """A balancer asking /readyz of a node at its limit must see it alive, not busy: the
    probes go to the application past max_conns (it never refuses them either)."""
    for path in ("/healthz", "/readyz"):
        r = httpx.get(f"{busy.https}{path}", headers={"X-Request-Id": f"probe{path}"}, verify=False)
        assert r.status_code == 200, path
        assert r.text == "ok"
        assert busy.stand_in.seen[-1] == path
    assert post(f"{busy.https}/api/v1/drafts/7/submit").status_code == 503


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("", "ky"),
        ("ru", "ru"),
        ("RU-ru", "ru"),
        ("de, uz;q=0.5, ru;q=0.4", "uz"),
        ("en-GB,en;q=0.9,ky;q=0.8", "en"),
        ("de-DE", "ky"),
        ("kyx, ruby", "ky"),
    ],
)
def test_the_busy_language_is_the_first_of_ours_accept_language_names(
    busy: Busy, one_in_flight: threading.Thread, accept: str, language: str
) -> None:
    r = post(f"{busy.https}/api/v1/drafts/7/submit", **{"Accept-Language": accept})
    assert r.status_code == 503
    assert r.headers["content-language"] == language
    assert r.content == busy_pages()[f"{language}.json"]


def test_retry_after_is_jittered_over_one_to_four_seconds(
    busy: Busy, one_in_flight: threading.Thread
) -> None:
    with httpx.Client(verify=False, timeout=10) as client:
        waits = [
            int(client.post(f"{busy.https}/api/v1/drafts/7/submit").headers["retry-after"])
            for _ in range(40)
        ]
    assert set(waits) <= {1, 2, 3, 4}
    assert len(set(waits)) >= 3  # 40 draws from four values: all but never the same few


def test_under_the_limit_and_the_applications_own_answers_pass_through(busy: Busy) -> None:
    busy.stand_in.release.set()
    r = post(f"{busy.https}/api/v1/drafts/8/submit", **{"X-Request-Id": "through-1"})
    assert r.status_code == 201
    assert access_lines(busy, "through-1")[0].endswith(f" through-1 {busy.upstream} 201")
    own = httpx.get(f"{busy.https}/own-503", verify=False)
    assert own.status_code == 503
    assert own.json() == {"code": "the application itself"}
    assert own.headers["retry-after"] == "7"


def test_an_application_that_is_down_is_answered_busy_too(
    tmp_path: Path,
) -> None:
    """Nothing listens upstream (a restart, a crashed worker): the same 503 + Retry-After,
    which clients already retry, instead of nginx's bare 502 page."""
    front = nginx_front(
        tmp_path,
        upstream=f"127.0.0.1:{free_port()}",
        static_root=busy_static_root(tmp_path),
        ready=None,
    )
    with front as nginx:
        r = post(f"{nginx.https}/api/v1/drafts/7/submit", **{"Accept-Language": "ky"})
        probe = httpx.get(f"{nginx.https}/readyz", verify=False)
    assert r.status_code == 503
    assert r.content == busy_pages()["ky.json"]
    assert 1 <= int(r.headers["retry-after"]) <= 4
    # The balancer's probe sees the node down, not busy: it takes it out of rotation.
    assert probe.status_code == 502


def test_the_bench_reads_who_answered_from_this_access_log(tmp_path: Path) -> None:
    """`make bench` counts nginx's own refusals and their time inside nginx from the access
    log this template writes (bench/flash_crowd.py ``front_answers``)."""
    with stand_in_front(tmp_path, max_conns=1) as front:
        held = threading.Thread(target=lambda: post(f"{front.https}/api/v1/drafts/1/submit"))
        held.start()
        assert front.stand_in.entered.acquire(timeout=10)
        for n in range(3):
            assert post(f"{front.https}/api/v1/drafts/2/submit").status_code == 503, n
        front.stand_in.release.set()
        held.join(10)
        assert httpx.get(f"{front.https}/own-503", verify=False).status_code == 503
        # Leaving stops nginx (SIGQUIT), which flushes the buffered log.
    answers = front_answers(front.logs / "kattoo.access.log")
    assert answers["refused_by_nginx"] == 3
    assert 0 <= answers["refusal_ms_p99"] <= answers["refusal_ms_max"]
    # /healthz (the front's readiness), the held registration and the application's own 503.
    assert answers["answered_by_app"] == 3
    assert answers["refused_by_app"] == 1


def test_each_app_node_has_its_own_limit(tmp_path: Path) -> None:
    """Two app nodes (KATTOO_UPSTREAM lists both), one request each at a time: two
    registrations are held, one on each node, and the third is nginx's busy answer."""
    nodes = [StandIn(), StandIn()]
    servers = [serve(node) for node in nodes]
    upstream = ",".join(f"127.0.0.1:{s.server_address[1]}" for s in servers)
    front = nginx_front(
        tmp_path, upstream=upstream, static_root=busy_static_root(tmp_path), max_conns=1
    )
    held: list[threading.Thread] = []
    try:
        with front as nginx:
            for _ in nodes:
                held.append(
                    threading.Thread(target=lambda: post(f"{nginx.https}/api/v1/drafts/1/submit"))
                )
                held[-1].start()
            for node in nodes:  # one request reached each node
                assert node.entered.acquire(timeout=10)
            refused = post(f"{nginx.https}/api/v1/drafts/2/submit")
            assert refused.status_code == 503
            assert refused.json()["code"] == "service_busy"
            for node in nodes:
                node.release.set()
            for thread in held:
                thread.join(10)
            assert post(f"{nginx.https}/api/v1/drafts/3/submit").status_code == 201
    finally:
        for node, server in zip(nodes, servers, strict=True):
            node.release.set()
            server.shutdown()


def test_a_node_that_refuses_connections_is_skipped_and_the_bench_says_so(
    tmp_path: Path,
) -> None:
    """A node that is down (nothing listens: a restart) refuses the connection; nginx tries
    the next node (``proxy_next_upstream error``, never after the request was sent), and the
    access log lists both attempts, which the bench reads by the last one."""
    node = StandIn()
    node.release.set()
    server = serve(node)
    live = f"127.0.0.1:{server.server_address[1]}"
    front = nginx_front(
        tmp_path,
        upstream=f"127.0.0.1:{free_port()},{live}",
        static_root=busy_static_root(tmp_path),
        ready=None,
    )
    try:
        with front as nginx:
            statuses = [
                post(f"{nginx.https}/api/v1/drafts/{n}/submit").status_code for n in range(4)
            ]
    finally:
        server.shutdown()
    assert statuses == [201] * 4
    assert node.seen == [f"/api/v1/drafts/{n}/submit" for n in range(4)]  # each reached it once
    answers = front_answers(nginx.logs / "kattoo.access.log")
    assert answers["answered_by_app"] == 4
    assert answers["refused_by_nginx"] == 0
    # Round robin sends some of the four to the dead node first (max_fails=0: never skipped).
    assert 1 <= answers["answered_on_another_node"] <= 4
