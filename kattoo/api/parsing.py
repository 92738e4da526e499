"""The API's JSON body parser: PostgreSQL cannot store a NUL character in text, so a body
holding one (``"\\u0000"`` in any string) is refused as malformed (400 ``bad_request``) before
any handler runs, as Django's forms refuse it on the web (the fuzz found a 500 on PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class JsonBodyParser(Parser):
    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = json.loads(request.body)
        if _holds_nul(data):
            raise ValueError("a string of the body holds a NUL character")
        return cast(DictStrAny, data)
