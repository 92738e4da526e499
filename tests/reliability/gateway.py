"""A slow SMS gateway for the worker-kill test, run inside the ``db_worker`` subprocess
(``KATTOO_NOTIFICATIONS_BACKEND=tests.reliability.gateway.SlowGateway``).

Like a real gateway it honours the idempotency key: a key it has already delivered is
acknowledged again but not delivered twice. Every call is one JSON line in the file
``KATTOO_NOTIFICATIONS_FILE`` (``delivered`` tells whether it reached the phone). Half of the
delay comes before the message is accepted and half after, while the worker waits for the
answer, so a worker killed mid-send may leave a message sent but not marked."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from django.conf import settings


class SlowGateway:
    def __init__(self) -> None:
        self.path = Path(settings.KATTOO_NOTIFICATIONS["FILE"])
        self.delay = float(os.environ.get("KATTOO_TEST_GATEWAY_DELAY", "0.3"))

    def send(self, *, key: str, channel: str, address: str, subject: str, body: str) -> str:
        time.sleep(self.delay / 2)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            seen = {json.loads(line)["key"] for line in handle if line.strip()}
            handle.write(json.dumps({"key": key, "delivered": key not in seen}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        time.sleep(self.delay / 2)
        return key
