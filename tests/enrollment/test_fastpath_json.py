"""The opening minute's answer is encoded once (issue 15): the body with a mark where the
position goes is stored by the statement and answered with the position written in.
``_with_position`` must give exactly what encoding the body with its position would give,
whatever the names in it say."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kattoo.enrollment.fastpath import (
    _ANSWER_MARK,
    Registered,
    _batch_json,
    _stores,
    _with_position,
)


def ninja_like(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def ascii_json(body: dict[str, Any]) -> str:
    return json.dumps(body)


# Names that try to look like the mark's member: quotes, the mark itself, the key.
TRICKY = st.one_of(
    st.text(),
    st.just(f'"position": "{_ANSWER_MARK}"'),
    st.just(_ANSWER_MARK),
    st.just('", "position": "'),
)


@given(
    child_name=TRICKY,
    school_name=TRICKY,
    position=st.integers(min_value=1, max_value=10**6),
    encoder=st.sampled_from([ninja_like, ascii_json]),
)
def test_the_position_written_in_equals_the_body_encoded_with_it(
    child_name: str, school_name: str, position: int, encoder: Any
) -> None:
    body = {
        "id": "00000000-0000-4000-8000-000000000000",
        "child_name": child_name,
        "school_name": school_name,
        "position": _ANSWER_MARK,
        "history": [{"reason": child_name}],
    }
    stored = encoder(body)
    registered = Registered(body, position=position)
    assert _with_position(stored, registered, encoder) == encoder(registered)
    assert json.loads(_with_position(stored, registered, encoder))["position"] == position


def test_a_mark_that_is_not_found_once_is_encoded_again() -> None:
    """Never an answer without its position: should the mark not be found exactly once, the
    body is encoded again with it."""
    registered = Registered({"position": 7, "child_name": "x"})
    assert _with_position('{"position": 0}', registered, ninja_like) == ninja_like(registered)


def spaced(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(" , ", " :  "))


def quoted_numbers(body: dict[str, Any]) -> str:
    """An encoder that writes numbers its own way: the member is encoded each time."""
    return json.dumps({k: str(v) if isinstance(v, int) else v for k, v in body.items()})


@given(position=st.integers(min_value=0, max_value=10**9))
def test_the_member_derived_once_per_encoder_is_what_the_encoder_writes(position: int) -> None:
    for encoder in (ninja_like, ascii_json, spaced, quoted_numbers):
        body = {"position": _ANSWER_MARK, "name": "Айжан"}
        registered = Registered(body, position=position)
        assert _with_position(encoder(body), registered, encoder) == encoder(registered)


def test_the_encoders_of_the_answer_write_the_member_the_statement_replaces() -> None:
    """ADR 0064: the statement writes the position over ``_ANSWER_MEMBER`` in the stored
    answer; both encoders a registration's answer meets write that member, whatever their
    ``ensure_ascii``. One that writes it otherwise is not used for the stored answer."""
    from kattoo.api.hot import _ninja_json
    from kattoo.enrollment.idempotency import response_json

    assert _stores(_ninja_json) and _stores(response_json)
    assert _stores(ninja_like) and _stores(ascii_json)
    assert not _stores(spaced) and not _stores(quoted_numbers)


# -- a batch's parameters as one JSON array (ADR 0048) ----------------------------------------

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(),
    st.uuids(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.binary(max_size=40),
    st.binary(max_size=40).map(memoryview),
)


def one_by_one(items: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> str:
    """The batch's JSON as it was made before: every value converted in Python first."""

    def value(v: Any) -> Any:
        if isinstance(v, (uuid.UUID, dt.datetime)):
            return str(v)
        if isinstance(v, (bytes, memoryview)):
            return bytes(v).hex()
        return v

    return json.dumps([[value(item[name]) for name, _kind in columns] for item in items])


@given(rows=st.lists(st.lists(VALUES, min_size=3, max_size=3), min_size=1, max_size=6))
def test_a_batch_is_encoded_as_each_value_converted_alone(rows: list[list[Any]]) -> None:
    """Only the values JSON has no form for go back to Python: the text is the same."""
    columns = (("a", "text"), ("b", "bigint"), ("c", "bytea"))
    items = [dict(zip(("a", "b", "c"), row, strict=True)) for row in rows]
    assert _batch_json(items, columns) == one_by_one(items, columns)
    assert _batch_json(items, columns[:1]) == one_by_one(items, columns[:1])


def test_a_value_with_no_json_form_is_refused() -> None:
    with pytest.raises(TypeError, match="no JSON form"):
        _batch_json([{"a": object()}], (("a", "text"),))
