"""The personal identification number (PIN, ИНН) as TUNDUK.md describes it.

14 digits: digit 1 is sex (1 female, 2 male), digits 2–9 the birth date DDMMYYYY, the last 5
a sequence. There is no public checksum: shape and date are all that can be validated.
"""

from __future__ import annotations

import datetime as dt
import re

# ASCII digits only: ``\d`` (and ``str.isdigit``/``int``) also take "５", "٠" or "¹".
_PIN = re.compile(r"[0-9]{14}", re.ASCII)


class InvalidPin(ValueError):
    pass


def pin_parse(value: str) -> tuple[str, dt.date]:
    """Return (sex "F"/"M", birth date) or raise InvalidPin."""
    if not isinstance(value, str) or not value.isascii() or not _PIN.fullmatch(value):
        raise InvalidPin("a PIN is exactly 14 digits")
    sex = {"1": "F", "2": "M"}.get(value[0])
    if sex is None:
        raise InvalidPin("the first digit of a PIN is 1 or 2")
    try:
        born = dt.date(int(value[5:9]), int(value[3:5]), int(value[1:3]))
    except ValueError as exc:
        raise InvalidPin("digits 2–9 of a PIN are a real date DDMMYYYY") from exc
    return sex, born


def pin_is_valid(value: str) -> bool:
    try:
        pin_parse(value)
    except InvalidPin:
        return False
    return True
