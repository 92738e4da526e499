from __future__ import annotations

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
