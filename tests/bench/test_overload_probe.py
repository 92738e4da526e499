"""The overload probe (bench/flash_crowd.py ``OverloadProbe``): clients in processes of their
own, each 503's time as measured and without the client's own wait for a core."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from bench.flash_crowd import OverloadProbe, _run_delay_ms, probe_summary


def test_summary_takes_the_probes_own_wait_out_of_each_503() -> None:
    answers: list[tuple[int, float, float | None]] = [
        (503, 10.0, 1.0),
        (503, 80.0, 75.0),  # a client that waited 75 ms for a core
        (201, 40.0, 0.0),
        (-1, 10_000.0, 0.0),
    ]
    s = probe_summary(answers, clients=2)
    assert s["requests"] == 4 and s["clients"] == 2
    assert s["statuses"] == {"503": 2, "201": 1, "-1": 1}
    assert s["answer_503_p99_ms"] == 80.0
    assert s["answer_503_p99_ms_less_probe_wait"] == 9.0  # 10 - 1 and 80 - 75
    assert s["probe_wait_503_p99_ms"] == 75.0
    assert s["timeouts"] == 1


def test_summary_without_the_kernels_figure_says_none_rather_than_a_mix() -> None:
    s = probe_summary([(503, 10.0, None), (503, 20.0, 2.0)], clients=1)
    assert s["answer_503_p99_ms"] == 20.0
    assert s["answer_503_p99_ms_less_probe_wait"] is None
    assert s["probe_wait_503_p99_ms"] is None


def test_summary_of_no_503_has_no_percentile() -> None:
    s = probe_summary([(201, 5.0, 0.0)], clients=1)
    assert s["answer_503_p99_ms"] is None and s["answer_p99_ms"] == 5.0


def test_run_delay_is_the_threads_own_and_never_goes_back() -> None:
    first = _run_delay_ms()
    if first is None:
        pytest.skip("this kernel keeps no schedstat")
    sum(i * i for i in range(200_000))
    second = _run_delay_ms()
    assert second is not None and second >= first


class _Busy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
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
    # Each client says what priority it got ahead of the server (the real-time class here, as
    # root; a nice value or nothing where the kernel refuses).
    assert s["probe_priority"] and set(s["probe_priority"]) <= {
        "SCHED_FIFO 1",
        "nice -20",
        "normal",
    }
