"""Model fields the project needs that Django does not have."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class JSONText(models.TextField):
    """A JSON document kept as the text it was written in (``text``, not ``jsonb``): for a
    value that is only ever given back as it was stored and never queried by its members.
    ``jsonb`` parses the text and builds its binary form at every write; for the stored answer
    of an ``Idempotency-Key`` request, written by every registration of the opening minute,
    that was 6 % of the database's instructions a registration (ADR 0064).

    Python sees the parsed value, as with ``JSONField``; a value is written as Django's
    encoder writes it (times in RFC 3339). The opening minute's statement writes its own text,
    the one it answers with (``fastpath._idempotency_cte``)."""

    description = "A JSON document kept as its text"
    # For django-stubs: the model's attribute is the parsed value, as JSONField's.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        # A fixture's or a form's value is the document's text.
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj)) or ""
