from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kattoo.core import clock


def server_time(request: HttpRequest) -> dict[str, Any]:
    """Every page carries the server's clock (the countdown counts in it, not the phone's)."""
    return {"server_now": clock.now()}
