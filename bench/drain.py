"""How fast the outbox drain empties the opening's SMS through a gateway that takes its time.

The opening writes ~170,000 registration SMS in its first minutes (one outbox row each, no task
row: issue 15), and ``manage.py notifications_drain`` sends them. Each send waits for the
gateway's answer, so a drain that sends one at a time is bounded by the gateway's latency:
~1 / latency messages a second, whatever the machine. This starts a stand-in gateway on
localhost that answers every request after ``--latency`` seconds (the provider's HTTP API,
kattoo/integrations/sms/gateway.py), fills the outbox of a copy of the national seed with
queued messages, and runs the drain for ``--seconds`` at each concurrency
(``KATTOO_NOTIFICATIONS_CONCURRENCY``):

    python -m bench.drain                                  # 100 ms, 1 / 4 / 16 / 64, 15 s each
    python -m bench.drain --latency 0.3 --concurrency 1,16,64

Prints one JSON line per concurrency: messages sent per second, the most requests the gateway
saw at once, and the drain's own CPU per message; writes ``bench/results/drain.json``.
"""

# ruff: noqa: S603 - the bench runs its own fixed commands (this module)
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = "drain"


class StandIn(ThreadingHTTPServer):
    """The provider's send endpoint: answers ``{"message_id"}`` after ``latency`` seconds."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, latency: float) -> None:
        self.latency, self.in_flight, self.most = latency, 0, 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a provider's HTTPS API

    def do_POST(self) -> None:
        server: StandIn = self.server  # type: ignore[assignment]
        with server.lock:
            server.in_flight += 1
            server.most = max(server.most, server.in_flight)
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(server.latency)
        with server.lock:
            server.in_flight -= 1
        body = json.dumps({"message_id": "gw-" + payload["id"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _child(args: argparse.Namespace) -> None:
    """In the benchmark's database, with Django set up: queue, drain, report."""
    import django

    django.setup()
    from kattoo.core import clock
    from kattoo.integrations.sms.gateway import HttpSmsGateway
    from kattoo.notifications.models import DeliveryStatus, Notification
    from kattoo.notifications.tasks import notifications_drain

    server = StandIn(args.latency)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/send"
    sender = HttpSmsGateway(config={"URL": url, "TOKEN": "bench", "RETRIES": 1})
    now = clock.now()
    Notification.objects.bulk_create(
        Notification(
            channel="sms",
            event="application_registered",
            language="ky",
            address=f"+99670{n:07d}",
            body="Kattoo: катталды, орду — 12.",
            created_at=now,
            dedupe_key=f"bench-drain:{n}",
        )
        for n in range(args.messages)
    )
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        Notification.objects.update(
            status=DeliveryStatus.QUEUED, attempts=0, claim_id=None, claimed_at=None
        )
        server.most = 0
        pool = ThreadPoolExecutor(concurrency) if concurrency > 1 else None
        sent, cpu0, started = 0, time.process_time(), time.monotonic()
        while time.monotonic() - started < args.seconds:
            claimed = notifications_drain(batch=args.batch, pool=pool, sender=sender)
            if not claimed:
                break
            sent += claimed
        wall, cpu = time.monotonic() - started, time.process_time() - cpu0
        if pool is not None:
            pool.shutdown()
        done = Notification.objects.filter(status=DeliveryStatus.SENT).count()
        row = {
            "concurrency": concurrency,
            "latency_s": args.latency,
            "sent_per_s": round(done / wall, 1),
            "gateway_most_at_once": server.most,
            # The stand-in gateway's threads run in this process too: an upper bound.
            "process_cpu_ms_per_message": round(1000 * cpu / max(done, 1), 3),
            "claimed": sent,
        }
        print("JSON " + json.dumps(row), flush=True)
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", default="1,4,16,64")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    import subprocess

    from bench.common import write_results
    from bench.flash_crowd import VAR, fresh_db
    from bench.pgcluster import PgCluster
    from bench.seed import ensure_seed

    VAR.mkdir(parents=True, exist_ok=True)
    pg = PgCluster(huge_pages=True).start()
    rows = []
    try:
        seed = ensure_seed(pg, "national", log=lambda msg: print(msg, file=sys.stderr))
        url, _t0 = fresh_db(pg, seed, DB, opens_in=0)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url}
        command = [sys.executable, "-m", "bench.drain", "--child", *sys.argv[1:]]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        rows = [json.loads(x[5:]) for x in done.stdout.splitlines() if x.startswith("JSON ")]
        if done.returncode or not rows:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit(done.returncode or 1)
    finally:
        pg.psql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        pg.stop()
    for row in rows:
        print(json.dumps(row))
    write_results("drain", {"runs": rows})


if __name__ == "__main__":
    main()
