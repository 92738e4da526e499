"""Forms of the staff portals: they parse input only; every rule stays in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kattoo.catalog.models import Language, Parity, School
from kattoo.catalog.selectors import localized_name
from kattoo.commission.models import Ground
from kattoo.enrollment.models import DocumentKind, PmpkOutcome, RefusalReason
from kattoo.integrations.registry.pin import InvalidPin, pin_parse
from kattoo.people.models import Sex
from kattoo.reports.selectors import DIMENSIONS

from .forms import PinField


def totp_code_field() -> forms.RegexField:
    """The authenticator's 6-digit code (ASCII digits only), for sign-in and enrolment."""
    return forms.RegexField(
        label=_("Code from the authenticator app"),
        help_text=_("6 digits; the app shows a new one every 30 seconds."),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=8,
        error_messages={"invalid": _("The code has 6 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StaffLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = totp_code_field()


# ---- school ---------------------------------------------------------------------------


class QuotaChangeForm(forms.Form):
    """One of the director's changes before the lock (§11)."""

    OPERATIONS = (
        ("raise", _("raise the seats of a class-set")),
        ("add", _("add a Kyrgyz class-set")),
        ("to_kyrgyz", _("switch a class-set to Kyrgyz")),
        ("remove", _("remove a class-set the school added")),
    )

    op = forms.ChoiceField(choices=OPERATIONS, widget=forms.HiddenInput)
    class_set = forms.IntegerField(label=_("Class-set"), min_value=1, max_value=99, required=False)
    seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=99, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        op = data.get("op")
        if op in ("raise", "to_kyrgyz", "remove") and not data.get("class_set"):
            self.add_error("class_set", _("Choose the class-set."))
        if op in ("raise", "add") and not data.get("seats"):
            self.add_error("seats", _("Give the number of seats."))
        return data


class RefuseForm(forms.Form):
    # §22: the legal reason is chosen, never preselected; a refusal costs the family its seat,
    # so it is confirmed explicitly (a checkbox: it works without JavaScript).
    reason = forms.ChoiceField(
        label=_("Legal reason"),
        choices=[("", _("Choose…")), *RefusalReason.choices],
        error_messages={"required": _("Choose the legal reason.")},
    )
    text = forms.CharField(
        label=_("Explanation for the applicant and the district office"),
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I confirm the refusal: the seat is freed, the applicant gets an SMS and may appeal."
        ),
        error_messages={"required": _("Tick the confirmation to refuse the registration.")},
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Certificate"), choices=DocumentKind.choices)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)


class DocumentsRequestForm(forms.Form):
    text = forms.CharField(
        label=_("Which documents, and why"),
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PmpkReferForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PmpkOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome of the commission"),
        choices=[
            (PmpkOutcome.STAYS, PmpkOutcome.STAYS.label),
            (PmpkOutcome.SPECIAL_SCHOOL, PmpkOutcome.SPECIAL_SCHOOL.label),
        ],
    )


class AddressLineForm(forms.Form):
    """A microdistrict line: a whole street (no house numbers) or a range of houses."""

    house_from = forms.IntegerField(
        label=_("From house number"), min_value=0, max_value=100000, required=False
    )
    house_to = forms.IntegerField(
        label=_("To house number"), min_value=0, max_value=100000, required=False
    )
    parity = forms.ChoiceField(label=_("Houses"), choices=Parity.choices, initial=Parity.ALL)
    note = forms.CharField(
        label=_("Evidence for the address"),
        help_text=_("For example: the decision of the local authority, its number and date."),
        max_length=300,
    )


class AddressForm(AddressLineForm):
    street = forms.ChoiceField(label=_("Street"))

    field_order = ["street", "house_from", "house_to", "parity", "note"]

    def __init__(self, *args: Any, streets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["street"]
        field.choices = streets


class RejectRequestForm(forms.Form):
    note = forms.CharField(label=_("Why the address is not added"), max_length=300)


class TeacherForm(forms.Form):
    pin = PinField(
        label=_("Teacher's PIN"),
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    full_name = forms.CharField(label=_("Full name"), min_length=2, max_length=300)


class ClassesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)


# ---- district -------------------------------------------------------------------------


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {localized_name(obj)}"


class CommissionForm(forms.Form):
    # §9: a child the registry does not know has no PIN yet: the commission's decision (and the
    # birth certificate, when there is one) states who the child is.
    child_pin = forms.CharField(
        label=_("Child's PIN"),
        help_text=_("Leave empty for a child the registry does not know yet."),
        max_length=14,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    child_surname = forms.CharField(label=_("Child's surname"), max_length=100, required=False)
    child_name = forms.CharField(label=_("Child's name"), max_length=100, required=False)
    child_patronymic = forms.CharField(
        label=_("Child's patronymic"), max_length=100, required=False
    )
    child_birth_date = forms.DateField(label=_("Date of birth"), widget=DATE, required=False)
    child_sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    certificate_series = forms.CharField(
        label=_("Birth certificate series"), max_length=16, required=False
    )
    certificate_number = forms.CharField(
        label=_("Birth certificate number"), max_length=16, required=False
    )
    applicant_pin = PinField(
        label=_("Applicant's PIN"),
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    school = SchoolChoiceField(label=_("School"), queryset=School.objects.none())
    language = forms.ChoiceField(label=_("Language of instruction"), choices=Language.choices)
    number = forms.CharField(label=_("Number of the decision"), max_length=64)
    decided_on = forms.DateField(label=_("Date of the decision"), widget=DATE)
    ground = forms.ChoiceField(label=_("Ground"), choices=Ground.choices)
    documents_checked = forms.BooleanField(
        label=_("The documents of this special-order admission are checked"), required=False
    )
    # §17: a placement that answers an appeal (the appeal card links here with it prefilled).
    appeal = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["school"]
        field.queryset = schools

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pin = (data.get("child_pin") or "").strip()
        data["child_pin"] = pin
        if pin:
            try:
                pin_parse(pin)
            except InvalidPin:
                self.add_error(
                    "child_pin", _("A PIN is 14 digits: sex, date of birth DDMMYYYY and a number.")
                )
            return data
        stated = ("child_surname", "child_name", "child_birth_date", "child_sex")
        if not all(data.get(name) for name in stated):
            raise forms.ValidationError(
                _(
                    "Enter the child's PIN or, for a child the registry does not know, the "
                    "surname, name, date of birth and sex."
                )
            )
        return data


class CommissionLinkForm(forms.Form):
    """§9: the registry now knows a child placed under a temporary identifier."""

    child_pin = PinField(
        label=_("Child's PIN"),
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class AdditionDecisionForm(forms.Form):
    """§24: the district's answer to a teacher added after the quota lock."""

    note = forms.CharField(label=_("Note (required to reject)"), max_length=300, required=False)


class AppealAnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"), min_length=5, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class AppealReinstateForm(forms.Form):
    """§17, §22: reinstating takes a seat back in the pool, so it is confirmed explicitly."""

    text = forms.CharField(
        label=_("Answer to the applicant (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("I confirm: the refusal was unlawful and the registration is reinstated."),
        error_messages={"required": _("Tick the confirmation to reinstate the registration.")},
    )


class AppealRejectForm(forms.Form):
    text = forms.CharField(
        label=_("Reason of the rejection"),
        min_length=5,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# ---- ministry -------------------------------------------------------------------------

DIMENSION_LABELS = {
    "region": _("region"),
    "district": _("district"),
    "school": _("school"),
    "language": _("language"),
    "sex": _("sex"),
    "birth_year": _("birth year"),
    "stage": _("stage"),
    "route": _("route"),
}
SEAT_DIMENSIONS = ("region", "district", "school", "language")


class ReportForm(forms.Form):
    by = forms.MultipleChoiceField(
        label=_("Group by"),
        choices=[(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
        widget=forms.CheckboxSelectMultiple,
    )
    kind = forms.ChoiceField(
        label=_("Report"),
        choices=[("applications", _("registrations")), ("seats", _("seats and free seats"))],
        initial="applications",
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["kind"] = data.get("kind") or "applications"
        if data.get("kind") == "seats" and data.get("by"):
            kept = [d for d in data["by"] if d in SEAT_DIMENSIONS]
            if not kept:
                self.add_error(
                    "by", _("Seats are grouped by region, district, school or language only.")
                )
            data["by"] = kept
        return data
