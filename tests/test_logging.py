from __future__ import annotations

import logging

from kattoo.core.logging import MaskPinsFilter, mask_pins


def test_pins_are_masked() -> None:
    assert mask_pins("person 22310199070001 refreshed") == "person 2**********001 refreshed"
    assert mask_pins("phone +996700123456, id 123") == "phone +996700123456, id 123"


def test_the_filter_rewrites_records() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "login %s", ("12310199070042",), None
    )
    MaskPinsFilter().filter(record)
    assert record.getMessage() == "login 1**********042"
