"""``python -m kattoo.tunduk_sim`` as the demo and benchmarks start it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from .support import Cast

ROOT = Path(__file__).resolve().parents[2]


def test_the_simulator_does_not_import_django() -> None:
    """It must start fast and run without the project's settings."""
    code = (
        "import sys, kattoo.tunduk_sim.__main__, kattoo.tunduk_sim.server;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_command_serves_a_population_file_and_stops_on_sigterm(tmp_path, cast: Cast) -> None:
    population = tmp_path / "population.json"
    population.write_text(json.dumps(cast.document), encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "kattoo.tunduk_sim", "--population", str(population), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split(" at ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert f"({len(cast.everyone)} people)" in line
        with httpx.Client(base_url=url, trust_env=False, timeout=5) as client:
            assert client.get("/_admin/health").json() == {
                "status": "ok",
                "people": len(cast.everyone),
            }
        process.send_signal(signal.SIGTERM)
        # a guard against a hang, not a measure: a busy machine took over 5 s once
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_missing_population_file_is_reported(tmp_path) -> None:
    out = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "kattoo.tunduk_sim", "--population", str(tmp_path / "none.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert out.returncode == 1 and "cannot load" in out.stderr
