"""Forms of the staff people pages and of the enrolment page (ADR 0018). They parse input
only; who may create whom, and every other rule, stays in kattoo.accounts.staff."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kattoo.accounts.models import Role
from kattoo.catalog.models import District, School
from kattoo.catalog.selectors import localized_name

from .forms_staff import totp_code_field

MINISTRY_CREATES = (
    (Role.DISTRICT, _("district education officer")),
    (Role.MINISTRY_ANALYST, _("ministry analyst")),
    (Role.MINISTRY_ADMIN, _("ministry administrator")),
)


class StaffCreateForm(forms.Form):
    """A new account: the ministry chooses a role (and a district for an officer); a district
    officer creates a director for one of its schools."""

    username = forms.CharField(
        label=_("Username"),
        max_length=40,
        help_text=_("Latin letters, digits, dots, hyphens; starts with a letter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=MINISTRY_CREATES)
    district = forms.ChoiceField(
        label=_("District (for a district officer)"), required=False, choices=()
    )
    school = forms.ChoiceField(label=_("School"), choices=())

    def __init__(self, *args: Any, creator_role: str, schools: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creator_role == Role.DISTRICT:
            del self.fields["role"]
            del self.fields["district"]
            school_field: Any = self.fields["school"]
            school_field.choices = [("", "—")] + [
                (s.code, f"{s.code} {localized_name(s)}") for s in schools or []
            ]
        else:
            del self.fields["school"]
            district_field: Any = self.fields["district"]
            district_field.choices = [("", "—")] + [
                (d.soate, f"{localized_name(d)} ({d.soate})")
                for d in District.objects.order_by("name_ky")
            ]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "username": data["username"],
            "full_name": data["full_name"],
            "role": data.get("role", Role.SCHOOL),
            "school": data.get("school") or None,
            "district": data.get("district") or None,
        }


def schools_for_form(district_id: int | None) -> list[School]:
    if district_id is None:
        return []
    return list(School.objects.filter(district_id=district_id).order_by("code"))


class EnrolPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        max_length=128,
        strip=False,
        help_text=_("At least 12 characters; not a common word, not like your username."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class EnrolCodeForm(forms.Form):
    code = totp_code_field()
