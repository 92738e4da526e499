"""``flash_crowd.run_wrk`` with ``bench/wrk/register.lua`` against a small server of the test's
own: a run whose children run out before its seconds stops there, and its summary counts the
time the children took (a rate is never the children offered over seconds nobody was served
in); a 503 that echoes the request id puts its child back in the queue; with ``resend``, a
child whose request was lost with its connection is sent again with its key."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench.flash_crowd import ran_out, run_wrk, summarize, violations_all

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (scripts/ensure-bench-tools.sh)"
)


class _Registrar(BaseHTTPRequestHandler):
    """201 for a child's submit — after one 503 per child when ``busy_first``, or after
    dropping its first request's connection unanswered when ``drop_first`` (a killed worker) —
    echoing the request id as the app does. ``keys``: the Idempotency-Keys each child came
    with."""

    seen: set[str]
    keys: dict[str, list[str]]
    busy_first = False
    drop_first = False
    lock = threading.Lock()

    def do_GET(self) -> None:  # /healthz: a thread with nothing to send, or waiting
        self._answer(200, b"ok", [])

    def do_POST(self) -> None:
        child = self.path.split("/")[4]
        with self.lock:
            first = child not in self.seen
            self.seen.add(child)
            self.keys.setdefault(child, []).append(self.headers.get("Idempotency-Key", ""))
        rid = self.headers.get("X-Request-Id", "")
        if self.drop_first and first:
            self.close_connection = True  # no answer at all: wrk counts a socket error
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.busy_first and first:
            self._answer(503, b"{}", [("Retry-After", "0"), ("X-Request-Id", rid)])
            return
        body = json.dumps({"id": f"app-{child}", "position": 1}).encode()
        self._answer(201, body, [("X-Request-Id", rid)])

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in [("Content-Type", "application/json"), *headers]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Registrar]]]:
    handler = type("Registrar", (_Registrar,), {"seen": set(), "keys": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def _rows(n: int) -> list[tuple[str, str, int, str]]:
    return [(f"token{i}", str(1000 + i), 1, "ky") for i in range(n)]


def test_a_run_whose_children_run_out_stops_and_counts_the_time_they_took(
    server: tuple[str, type[_Registrar]], tmp_path: Path
) -> None:
    url, _handler = server
    # A connection a thread: no request of another connection is in flight when a thread
    # finds its queue empty and stops (register.lua), so every child is answered.
    wrk = run_wrk(url, conns=2, seconds=300, rows=_rows(200), workdir=tmp_path)
    assert wrk["stopped_drained"] is True
    assert wrk["children_left"] == 0
    # wrk builds one request of its first thread to check the script (script_verify_request)
    # and never sends it: that thread's first child is taken and not submitted.
    assert sorted(wrk["acks"]) == sorted(f"app-{1000 + i}" for i in range(1, 200))
    summary = summarize(wrk, 300)
    # Interrupted once drained: its duration is the run's own, not the five minutes it was
    # given (which the test would otherwise have sat out).
    assert summary["seconds"] < 300 and summary["planned_seconds"] == 300
    assert summary["stopped_drained"] and summary["drained"]
    assert summary["processed_per_s"] == round(199 / (wrk["duration_us"] / 1e6), 1)
    assert sorted(p.name for p in tmp_path.glob("drained-*")) == ["drained-0", "drained-1"]


def test_a_503_that_names_its_request_puts_the_child_back(
    server: tuple[str, type[_Registrar]], tmp_path: Path
) -> None:
    url, handler = server
    handler.busy_first = True
    wrk = run_wrk(url, conns=2, seconds=60, rows=_rows(50), workdir=tmp_path)
    statuses = {k: int(v) for k, v in wrk["statuses"].items()}
    assert statuses == {"503": 49, "201": 49}  # the first child: wrk's check, never sent
    assert wrk["unmatched_503"] == 0 and wrk["children_left"] == 0
    assert len(wrk["acks"]) == 49


def test_a_child_lost_with_its_connection_is_sent_again_with_its_key(
    server: tuple[str, type[_Registrar]], tmp_path: Path
) -> None:
    """The kill -9 run's case: every child's first request dies with its connection
    (wrk's socket error, no hook for the script). With ``resend`` each is sent again, with the
    key it had, once nobody answered it for a second; the threads wait for them rather than
    stop, so every child is acknowledged."""
    url, handler = server
    handler.drop_first = True
    wrk = run_wrk(url, conns=2, seconds=120, rows=_rows(30), workdir=tmp_path, resend=2)
    assert wrk["stopped_drained"] is True and wrk["children_left"] == 0
    # wrk's check request (thread 0's first child, never sent) is resent too: all 30.
    assert sorted(set(wrk["acks"])) == sorted(f"app-{1000 + i}" for i in range(30))
    assert wrk["resent"] >= 30
    assert sum(int(n) for n in wrk["errors"].values()) >= 29
    summary = summarize(wrk, 120)
    assert summary["resent"] == wrk["resent"] and summary["accepted"] >= 30
    # The same key each time: a registration the lost request made is replayed, not made twice.
    assert len(handler.keys) == 30
    assert all(len(keys) >= 2 and len(set(keys)) == 1 and keys[0] for keys in handler.keys.values())


def test_without_resend_a_lost_request_takes_its_child(
    server: tuple[str, type[_Registrar]], tmp_path: Path
) -> None:
    url, handler = server
    handler.drop_first = True
    wrk = run_wrk(url, conns=2, seconds=120, rows=_rows(30), workdir=tmp_path)
    assert wrk["stopped_drained"] is True
    assert wrk["acks"] == [] and wrk["resent"] == 0


def test_the_marks_of_an_earlier_run_are_cleared(
    server: tuple[str, type[_Registrar]], tmp_path: Path
) -> None:
    url, _handler = server
    for i in range(2):
        (tmp_path / f"drained-{i}").touch()  # an earlier run's, in the same directory
    # More children than two connections can take in its two seconds: the run must end by its
    # seconds. (With 4,000, a fast machine took them all just as the seconds ran out, before a
    # thread found its queue empty and marked it: a race of the test, not of the runner.)
    wrk = run_wrk(url, conns=2, seconds=2, rows=_rows(200_000), workdir=tmp_path)
    # Not stopped by the stale marks: it ran its seconds, and children were left.
    assert wrk["stopped_drained"] is False
    assert wrk["children_left"] > 0
    assert len(wrk["acks"]) > 0


def test_the_results_say_which_runs_ran_out_and_count_every_runs_violations() -> None:
    assert ran_out({}) == "none"
    assert ran_out({"c64": [14.52, 20.0], "scale_out_3": [7.1, 10.0]}) == (
        "c64 14.52 of 20, scale_out_3 7.1 of 10"
    )
    clean = {"overbooked": 0, "lost_acks": 0, "applications": 900, "acks": 800}
    assert violations_all({"invariants": clean}) == 0
    elsewhere = {"scale_out_2": {"lost_acks": 2}, "scale_out_3": {"overbooked": 1}}
    assert violations_all({"invariants": clean, "invariants_elsewhere": elsewhere}) == 3
    assert violations_all({"invariants": {**clean, "overbooked": 4}}) == 4


def test_the_scale_out_runs_each_step_on_a_copy_of_its_own_and_gives_the_run_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each step: a fresh copy, the cohort from its first child, its own acks; a step's
    violations are kept apart; the run's database, acks and place in the cohort come back."""
    import argparse
    import contextlib

    from bench import flash_crowd as fc

    class Pg:
        dropped: list[str] = []

        def psql(self, sql: str, **_kw: object) -> str:
            self.dropped.append(sql)
            return ""

    class App:
        def __init__(self, db_url: str, **_kw: object) -> None:
            self.db_url = db_url

        def start(self) -> None: ...
        def stop(self) -> None: ...
        def pid(self) -> int:
            return 1

        port = 1

    copies: list[str] = []

    def fresh_db(_pg: object, _seed: str, name: str, *, opens_in: float) -> tuple[str, None]:
        copies.append(name)
        return f"postgres:///{name}-{len(copies)}", None

    @contextlib.contextmanager
    def bench_front(*_a: object, **_kw: object) -> Iterator[fc.front.Front]:
        yield fc.front.Front(https="https://front", http="http://front", logs=tmp_path)

    (tmp_path / "kattoo.access.log").write_text("")
    monkeypatch.setattr(fc, "App", App)
    monkeypatch.setattr(fc, "fresh_db", fresh_db)
    monkeypatch.setattr(fc, "bench_front", bench_front)
    bench = fc.Bench.__new__(fc.Bench)
    bench.args = argparse.Namespace(scale_out=[1, 2])
    bench.pg, bench.results = Pg(), {"phases": {}}
    bench.db_url, bench.all_acks, bench.extra_roots = "postgres:///run", ["run-ack"], []
    bench.targets = fc.Targets.__new__(fc.Targets)
    bench.targets.rows, bench.targets.next = _rows(100), 60
    seen: list[tuple[str, int, int]] = []

    def phase(name: str, url: str, **kw: Any) -> dict[str, Any]:
        rows = bench.targets.take(kw["children"])
        seen.append((bench.db_url, int(rows[0][1]), len(rows)))
        bench.all_acks.append(name)
        bad = {"lost_acks": 1} if name == "scale_out_2" else {"lost_acks": 0}
        return {"invariants": bad, "accepted_per_s": 1.0, "processed_per_s": 1.0,
                "p99_ms": 1.0, "cpu": {}}  # fmt: skip

    bench.phase = phase  # type: ignore[method-assign]
    steps = bench.scale_out("seed", threads=16, children=40, seconds=10)
    assert [s["app_processes"] for s in steps] == [1, 2]
    # Each on its own copy, from the cohort's first child, with its own acks.
    assert seen == [("postgres:///scale-1", 1000, 40), ("postgres:///scale-2", 1000, 40)]
    assert bench.results["invariants_elsewhere"] == {"scale_out_2": {"lost_acks": 1}}
    assert (bench.db_url, bench.all_acks, bench.targets.next) == (
        "postgres:///run",
        ["run-ack"],
        60,
    )
    assert sum("DROP DATABASE" in sql for sql in Pg.dropped) == 2


def test_a_call_during_the_load_runs_and_wrks_result_comes_after_both(
    server: tuple[str, type[_Registrar]], tmp_path: Path
) -> None:
    url, handler = server
    answered_meanwhile: list[int] = []

    def during() -> None:  # in the caller's thread, wrk's in another: it sees answers arrive
        while not handler.seen:
            threading.Event().wait(0.01)
        answered_meanwhile.append(len(handler.seen))

    wrk = run_wrk(url, conns=2, seconds=300, rows=_rows(3000), workdir=tmp_path, during=during)
    assert answered_meanwhile and answered_meanwhile[0] > 0
    assert wrk["stopped_drained"] and len(wrk["acks"]) == 2999  # its result, once both ended


@pytest.mark.parametrize("wait", [True, False], ids=["waiting", "nowait"])
def test_each_connection_waits_the_retry_after_of_its_own_503(tmp_path: Path, wait: bool) -> None:
    """A fast server answers many connections in one turn of wrk's event loop: each of them
    waits its own Retry-After, not only one of them (until session 26 the rest came straight
    back, and a flood answered 503 sent ~35 times what its clients would) — unless the run's
    clients are told to ignore it (``wait_retry_after=False``, ADR 0057)."""
    import asyncio

    answer = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")  # register.lua's submits have no body
                writer.write(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(
        asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024), loop
    ).result(10)
    conns, seconds = 256, 3
    try:
        wrk = run_wrk(
            f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", conns=conns,
            seconds=seconds, rows=_rows(100_000), workdir=tmp_path, wait_retry_after=wait,
        )  # fmt: skip
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    # Each connection: its first request, then one a second (Retry-After: 1) — at most
    # seconds + 1 each, whatever the order its answers came in.
    answered = int(wrk["statuses"]["503"])
    if wait:
        assert conns <= answered <= conns * (seconds + 1)  # each answered, each waited
    else:
        assert answered > 4 * conns * (seconds + 1)  # straight back, as the flood was


@pytest.mark.parametrize("what", ["app", "pg"])
def test_a_kill_run_is_on_a_copy_of_its_own_and_gives_the_run_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, what: str
) -> None:
    """Each kill -9 run: a fresh copy from the cohort's first child, an app of the run's
    layout on it, the kill a third in (the app's workers, or the postmaster restarted), the
    acks before it counted, resending on for the app's kill only, its violations kept apart;
    the run's database, acks and place in the cohort come back, and the copy is dropped."""
    import argparse

    from bench import flash_crowd as fc

    events: list[str] = []

    class Pg:
        sql: list[str] = []

        def psql(self, sql: str, **_kw: object) -> str:
            self.sql.append(sql)
            return ""

        def kill9(self) -> int:
            events.append("postmaster killed")
            return 4242

        def start(self) -> None:
            events.append("postmaster started")

    class App:
        def __init__(self, db_url: str, **kw: Any) -> None:
            self.db_url, self.layout, self.name = db_url, (kw["workers"], kw["threads"]), kw["name"]
            self.stopped = False

        def start(self) -> None: ...
        def stop(self) -> None:
            self.stopped = True

        def worker_pids(self) -> list[int]:
            return [987654321]

        url = "http://app"

    def fresh_db(_pg: object, _seed: str, name: str, *, opens_in: float) -> tuple[str, None]:
        assert opens_in < 0  # stage 1 open already
        return f"postgres:///{name}", None

    monkeypatch.setattr(fc, "App", App)
    monkeypatch.setattr(fc, "fresh_db", fresh_db)
    monkeypatch.setattr(fc.os, "kill", lambda pid, sig: events.append(f"killed {pid}"))
    monkeypatch.setattr(fc.time, "sleep", lambda s: None)
    monkeypatch.setattr(fc, "VAR", tmp_path)
    bench = fc.Bench.__new__(fc.Bench)
    bench.args = argparse.Namespace()
    bench.pg, bench.results, bench.app = Pg(), {"phases": {}}, None
    bench.db_url, bench.all_acks, bench.extra_roots = "postgres:///run", ["run-ack"], []
    bench.targets = fc.Targets.__new__(fc.Targets)
    bench.targets.rows, bench.targets.next = _rows(100), 90
    seen: dict[str, Any] = {}

    def phase(name: str, url: str, **kw: Any) -> dict[str, Any]:
        rows = bench.targets.take(kw["children"])
        seen.update(name=name, db=bench.db_url, first=int(rows[0][1]), n=len(rows), **kw)
        seen["app"] = bench.app
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "acks-0.txt").write_text("a1\t1\na2\t2\na1\t1\n")
        kw["during"]()
        return {"invariants": {"lost_acks": 1, "overbooked": 0}}

    bench.phase = phase  # type: ignore[method-assign]
    killed = bench.kill_run("seed", what, layout=(2, 16), seconds=20, children=40)
    name = f"durability_{what}_kill9"
    assert (seen["name"], seen["db"], seen["first"], seen["n"]) == (
        name, "postgres:///kill", 1000, 40
    )  # fmt: skip
    assert seen["resend"] == (2 if what == "app" else 0) and seen["conns"] == 128
    assert seen["app"].layout == (2, 16) and seen["app"].stopped and bench.app is None
    if what == "app":
        assert events == ["killed 987654321"] and killed["app_workers"] == [987654321]
    else:
        assert events == ["postmaster killed", "postmaster started"]
        assert killed["postmaster"] == 4242 and "pg_restart_s" in killed
    assert killed[f"acks_before_{what}_kill"] == 2 and killed[f"{what}_killed_at_s"] == 6.7
    assert bench.results["invariants_elsewhere"] == {name: {"lost_acks": 1}}
    assert (bench.db_url, bench.all_acks, bench.targets.next) == (
        "postgres:///run",
        ["run-ack"],
        90,
    )
    assert any('DROP DATABASE IF EXISTS "kill"' in sql for sql in Pg.sql)
