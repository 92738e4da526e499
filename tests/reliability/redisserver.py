"""A redis-server of the test's own, in a temporary directory, on a free port, that the test
can kill and start again (the machine's Redis, if any, is never touched). Used by the Redis
outage test (test_redis_stop.py) and the security proof behind nginx
(tests/security/production/); scripts/ensure-redis.sh installs the binary."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Redis:
    """A redis-server of the test's own, in a temporary directory, that can be killed."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--dir", str(self.directory), "--save", ""]
        command += ["--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603 (Debian's redis-server, our arguments)
            command,
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((self.directory / "redis.log").read_text()[-2000:])
            time.sleep(0.05)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: gone at once, connections reset
        self.process.wait()
        self.process = None
