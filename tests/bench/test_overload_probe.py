"""The overload probe (bench/flash_crowd.py ``OverloadProbe``): clients in processes of their
own, each 503's time as measured and without the client's own wait for a core, and who gave
each 503 behind nginx (its access log, by the request id the probe sent)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.flash_crowd import (
    PROBE_ID_PREFIX,
    Answer,
    OverloadProbe,
    _run_delay_ms,
    answerers,
    probe_summary,
)


def test_summary_takes_the_probes_own_wait_out_of_each_503() -> None:
    answers: list[Answer] = [
        (503, 10.0, 1.0, "probe-a"),
        (503, 80.0, 75.0, "probe-b"),  # a client that waited 75 ms for a core
        (201, 40.0, 0.0, "probe-c"),
        (-1, 10_000.0, 0.0, "probe-d"),
    ]
    s = probe_summary(answers, clients=2)
    assert s["requests"] == 4 and s["clients"] == 2
    assert s["statuses"] == {"503": 2, "201": 1, "-1": 1}
    assert s["answer_503_p99_ms"] == 80.0
    assert s["answer_503_p99_ms_less_probe_wait"] == 9.0  # 10 - 1 and 80 - 75
    assert s["probe_wait_503_p99_ms"] == 75.0
    assert s["timeouts"] == 1
    assert "answer_503_by" not in s  # straight to the app: nobody else could have answered


def test_summary_without_the_kernels_figure_says_none_rather_than_a_mix() -> None:
    s = probe_summary([(503, 10.0, None, "probe-a"), (503, 20.0, 2.0, "probe-b")], clients=1)
    assert s["answer_503_p99_ms"] == 20.0
    assert s["answer_503_p99_ms_less_probe_wait"] is None
    assert s["probe_wait_503_p99_ms"] is None


def test_summary_of_no_503_has_no_percentile() -> None:
    s = probe_summary([(201, 5.0, 0.0, "probe-a")], clients=1)
    assert s["answer_503_p99_ms"] is None and s["answer_p99_ms"] == 5.0


def test_summary_splits_the_503s_by_who_gave_them() -> None:
    answers: list[Answer] = [
        (503, 4.0, 0.0, "probe-1"),
        (503, 60.0, 0.0, "probe-2"),
        (503, 7.0, 0.0, "probe-3"),
        (503, 9.0, 0.0, "probe-4"),  # not in the log (it never reached nginx's log)
        (201, 30.0, 0.0, "probe-5"),
    ]
    by = {"probe-1": "nginx", "probe-2": "nginx", "probe-3": "app", "probe-5": "app"}
    s = probe_summary(answers, clients=1, answered_by=by)
    assert s["answer_503_by"] == {
        "nginx": {"count": 2, "p50_ms": 60.0, "p99_ms": 60.0},
        "app": {"count": 1, "p50_ms": 7.0, "p99_ms": 7.0},
    }
    assert s["answer_503_p99_ms"] == 60.0  # every 503, as before


def log_line(request_id: str, status: int, addr: str, upstream_status: str) -> str:
    """A line of deploy/nginx/kattoo.conf's ``log_format kattoo``."""
    return (
        f'10.0.0.1 - [2027-04-01T10:00:00+06:00] "POST /api/v1/drafts/1/submit HTTP/1.1" '
        f'{status} 120 0.000 - "python-httpx/0.28" {request_id} {addr} {upstream_status}'
    )


def test_answerers_reads_who_answered_each_probe_request(tmp_path: Path) -> None:
    log = tmp_path / "kattoo.access.log"
    log.write_text(
        "\n".join(
            [
                log_line("probe-1", 503, "kattoo_app", "502"),  # nginx's own refusal
                log_line("probe-2", 503, "127.0.0.1:8001", "503"),  # the app's admission
                log_line("probe-3", 201, "127.0.0.1:8001", "201"),
                # The first node refused the connection, every other was full: nginx's.
                log_line("probe-4", 503, "10.0.1.11:8000, kattoo_app", "502, 502"),
                log_line("1733480000.123-0123abcd", 503, "kattoo_app", "502"),  # wrk's
                log_line("probe-5", 200, "-", "-"),  # a static file: nobody upstream
                "a line of another format",
            ]
        )
        + "\n"
    )
    assert PROBE_ID_PREFIX == "probe-"
    assert answerers(log) == {
        "probe-1": "nginx",
        "probe-2": "app",
        "probe-3": "app",
        "probe-4": "nginx",
    }


def test_run_delay_is_the_threads_own_and_never_goes_back() -> None:
    first = _run_delay_ms()
    if first is None:
        pytest.skip("this kernel keeps no schedstat")
    sum(i * i for i in range(200_000))
    second = _run_delay_ms()
    assert second is not None and second >= first


class _Busy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    request_ids: list[str] = []  # the test's record of what came in

    def do_POST(self) -> None:
        _Busy.request_ids.append(self.headers.get("X-Request-Id", ""))
        self.send_response(503)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def busy_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_probes_processes_time_a_busy_servers_503s(busy_server: str) -> None:
    rows = [(f"token{i}", str(i), 1, "ky") for i in range(400)]
    probe = OverloadProbe(busy_server, rows, clients=2)
    with probe:
        deadline = time.monotonic() + 60  # each client imports the bench on a busy machine
        while probe.sent.value < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
    s = probe.result()
    assert s["clients"] == 2
    assert s["statuses"].get("503", 0) >= 2, s  # both processes answered
    assert set(s["statuses"]) == {"503"}
    assert s["answer_503_p99_ms"] is not None
    if s["answer_503_p99_ms_less_probe_wait"] is not None:
        assert s["answer_503_p99_ms_less_probe_wait"] <= s["answer_503_p99_ms"]
    assert all(not p.is_alive() for p in probe.procs)
    # Each request named by an id of its own, which nginx's log keeps (``answerers``).
    sent = _Busy.request_ids
    assert sent and all(rid.startswith(PROBE_ID_PREFIX) for rid in sent)
    assert len(set(sent)) == len(sent)
    # Each client says what priority it got ahead of the server (the real-time class here, as
    # root; a nice value or nothing where the kernel refuses).
    assert s["probe_priority"] and set(s["probe_priority"]) <= {
        "SCHED_FIFO 1",
        "nice -20",
        "normal",
    }
