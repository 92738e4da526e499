from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kattoo.integrations.registry.pin import InvalidPin, pin_is_valid, pin_parse


def test_valid_pin_gives_sex_and_birth_date() -> None:
    assert pin_parse("22310199070001") == ("M", dt.date(1990, 10, 23))
    assert pin_parse("10103201912345") == ("F", dt.date(2019, 3, 1))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2231019907000",
        "223101990700012",
        "32310199070001",
        "22313199070001",
        "20000199070001",
        "2231019907000a",
        "22902201970001",
        " 2310199070001",
        22310199070001,
        # Issue 13: digits that are not ASCII ("\\d", isdigit() and int() take them all).
        "2" + "2310199070001".translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "2" + "2310199070001".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        "2231019907000¹",
        "２２３１０１９９０７０００１",
    ],
)
def test_malformed_pins_are_refused(value) -> None:
    with pytest.raises(InvalidPin):
        pin_parse(value)


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.sampled_from("12"),
    st.integers(0, 99999),
)
def test_every_real_date_makes_a_valid_pin(born: dt.date, sex: str, seq: int) -> None:
    pin = f"{sex}{born:%d%m%Y}{seq:05d}"
    assert pin_is_valid(pin)
    assert pin_parse(pin)[1] == born
