"""``python -m kattoo.tunduk_sim --population FILE [--host 127.0.0.1] [--port 8100]``."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from kattoo.integrations.registry.population import Population

from .app import DEFAULT_HANG_SECONDS, make_app
from .server import server_make, server_url


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends serve_forever the way Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kattoo.tunduk_sim",
        description="A Tunduk Security Server simulator (docs/tunduk-protocol.md).",
    )
    parser.add_argument("--population", required=True, help="a kattoo-population/1 JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100, help="0 picks a free port")
    parser.add_argument(
        "--hang-seconds",
        type=float,
        default=DEFAULT_HANG_SECONDS,
        help="how long the hang fault holds a request",
    )
    args = parser.parse_args(argv)
    try:
        population = Population.from_file(args.population)
    except (OSError, ValueError) as exc:
        print(f"tunduk_sim: cannot load {args.population}: {exc}", file=sys.stderr)
        return 1
    app = make_app(population, hang_seconds=args.hang_seconds)
    server = server_make(app, args.host, args.port)
    signal.signal(signal.SIGTERM, _stop)
    print(f"Tunduk simulator at {server_url(server)} ({len(population)} people)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
