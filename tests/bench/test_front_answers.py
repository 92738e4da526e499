"""``bench/flash_crowd.py``'s reading of nginx's access log (deploy/nginx/kattoo.conf's
``log_format kattoo``): who answered each request, judged by its last upstream attempt, with
one node, several nodes, a retried attempt and nginx's own refusals."""

from __future__ import annotations

from pathlib import Path

from bench.flash_crowd import _upstream_attempts, front_answers

UA = '"wrk"'


def line(status: int, time: str, upstream_time: str, addr: str, upstream_status: str) -> str:
    return (
        f'10.0.0.1 - [2027-04-01T10:00:00+06:00] "POST /api/v1/drafts/1/submit HTTP/1.1" '
        f"{status} 120 {time} {upstream_time} {UA} 0123abcd {addr} {upstream_status}"
    )


def test_attempts_are_read_from_one_or_several_nodes() -> None:
    assert _upstream_attempts("127.0.0.1:8001 201") == [("127.0.0.1:8001", "201")]
    assert _upstream_attempts("10.0.1.11:8000, 10.0.1.12:8000 502, 201") == [
        ("10.0.1.11:8000", "502"),
        ("10.0.1.12:8000", "201"),
    ]
    assert _upstream_attempts("10.0.1.11:8000, kattoo_app 502, 502") == [
        ("10.0.1.11:8000", "502"),
        ("kattoo_app", "502"),
    ]
    assert _upstream_attempts("kattoo_app : - 502 : -") == [("kattoo_app", "502"), ("-", "-")]
    assert _upstream_attempts("- -") == [("-", "-")]
    assert _upstream_attempts("") == []
    assert _upstream_attempts("odd words here") == []


def test_each_request_is_judged_by_its_last_attempt(tmp_path: Path) -> None:
    log = tmp_path / "kattoo.access.log"
    log.write_text(
        "\n".join(
            [
                line(201, "0.012", "0.011", "127.0.0.1:8001", "201"),  # the app registered
                line(503, "0.004", "0.004", "127.0.0.1:8001", "503"),  # the app's own 503
                line(503, "0.000", "-", "kattoo_app", "502"),  # nginx's own refusal
                line(503, "0.001", "-", "kattoo_app", "502"),
                # The first node refused the connection; the second registered.
                line(201, "0.020", "0.000, 0.019", "10.0.1.11:8000, 10.0.1.12:8000", "502, 201"),
                # The first node refused the connection; every other was full: nginx's 503.
                line(503, "0.002", "0.000, -", "10.0.1.11:8000, kattoo_app", "502, 502"),
                line(200, "0.000", "-", "-", "-"),  # a static file
                "a line of another format",
            ]
        )
        + "\n"
    )
    answers = front_answers(log)
    assert answers["refused_by_nginx"] == 3
    assert answers["refusal_ms_p50"] == 1.0
    assert answers["refusal_ms_max"] == 2.0
    assert answers["answered_by_app"] == 3
    assert answers["refused_by_app"] == 1
    assert answers["answered_on_another_node"] == 1
