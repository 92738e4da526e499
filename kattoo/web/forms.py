from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kattoo.catalog.models import Language
from kattoo.integrations.registry.pin import InvalidPin, pin_parse


class PinField(forms.CharField):
    def clean(self, value: object) -> str:
        text = str(super().clean(value)).strip()
        try:
            pin_parse(text)
        except InvalidPin as exc:
            raise forms.ValidationError(
                _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
            ) from exc
        return text


class PinForm(forms.Form):
    pin = PinField(
        label=_("Personal identification number (PIN)"),
        help_text=_("14 digits, as in your passport"),
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the SMS"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=8,
        error_messages={"invalid": _("The code has 6 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class LinkChildForm(forms.Form):
    pin = PinField(
        label=_("Child's PIN"),
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    series = forms.CharField(label=_("Birth certificate series"), max_length=16)
    number = forms.RegexField(
        label=_("Birth certificate number"),
        regex=r"^[0-9]{6,7}$",
        max_length=7,
        error_messages={"invalid": _("The number has 6 or 7 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class RegisterForm(forms.Form):
    child = forms.IntegerField(widget=forms.HiddenInput)
    school = forms.IntegerField(widget=forms.HiddenInput)
    language = forms.ChoiceField(choices=Language.choices, widget=forms.HiddenInput)


class AddressLookupForm(forms.Form):
    q = forms.CharField(
        label=_("Street and house number"),
        min_length=2,
        max_length=200,
        help_text=_("For example: Toktogul 125"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class DatePartsWidget(forms.MultiWidget):
    """A date as three boxes — day, month, year — each with its own label (issue 14: dates are
    entered as 31 08 2020, never as ISO text)."""

    template_name = "web/widgets/date_parts.html"
    PARTS = (
        ("day", _("Day"), 2),
        ("month", _("Month"), 2),
        ("year", _("Year"), 4),
    )

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = [
            forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "maxlength": str(size),
                    "class": name,
                    "autocomplete": "off",
                }
            )
            for name, _label, size in self.PARTS
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, dt.date):
            return [f"{value.day:02d}", f"{value.month:02d}", str(value.year)]
        return [None, None, None]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["parts"] = [
            (sub, label)
            for sub, (_name, label, _size) in zip(
                context["widget"]["subwidgets"], self.PARTS, strict=True
            )
        ]
        return context


class DayMonthYearField(forms.MultiValueField):
    """A date typed as day, month and year; all three or (when not required) none. It only
    parses: which dates a document may bear (never later than today for an act) is the
    service's rule, said at this field when the service refuses it."""

    widget = DatePartsWidget
    default_error_messages = {
        "invalid": _("Enter a real date as day, month and year, for example 31 08 2020."),
        "incomplete": _("Enter the day, the month and the year."),
    }

    def __init__(self, **kwargs: Any) -> None:
        number = forms.RegexField(
            regex=r"^\s*\d{1,4}\s*$",
            error_messages={"invalid": self.default_error_messages["invalid"]},
        )
        super().__init__(fields=(number, number, number), require_all_fields=False, **kwargs)

    def clean(self, value: Any) -> Any:
        parts = [str(v).strip() if v is not None else "" for v in (value or [])]
        if not any(parts) and not self.required:
            return None
        if len(parts) != 3 or not all(parts):
            raise forms.ValidationError(self.error_messages["incomplete"], code="incomplete")
        return super().clean(value)

    def compress(self, data_list: list[Any]) -> dt.date | None:
        if not data_list:
            return None
        try:
            day, month, year = (int(str(v).strip()) for v in data_list)
            if year < 1900:
                raise ValueError(year)
            value = dt.date(year, month, day)
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return value
