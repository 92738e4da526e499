"""The opening minute's answer is encoded once (issue 15): the body with a mark where the
position goes is stored by the statement and answered with the position written in.
``_with_position`` must give exactly what encoding the body with its position would give,
whatever the names in it say."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kattoo.enrollment.fastpath import _POSITION_MARK, Registered, _with_position


def ninja_like(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def ascii_json(body: dict[str, Any]) -> str:
    return json.dumps(body)


# Names that try to look like the mark's member: quotes, the mark itself, the key.
TRICKY = st.one_of(
    st.text(),
    st.just(f'"position": "{_POSITION_MARK}"'),
    st.just(_POSITION_MARK),
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
        "position": _POSITION_MARK,
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
        body = {"position": _POSITION_MARK, "name": "Айжан"}
        registered = Registered(body, position=position)
        assert _with_position(encoder(body), registered, encoder) == encoder(registered)
