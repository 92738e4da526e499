"""Forms of the after-admission pages (web/views/after_admission.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kattoo.catalog.models import Language, School
from kattoo.enrollment.models import PmpkProposalKind

from .forms import PinField
from .forms_staff import DATE, SchoolChoiceField


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (optional)"),
        help_text=_("For example: the family moves to another town."),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that the seat is given to another child and cannot be returned"),
        required=True,
    )


class PmpkAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("agree", "agree"), ("decline", "decline")])


class PmpkProposeForm(forms.Form):
    kind = forms.ChoiceField(label=_("The school proposes"), choices=PmpkProposalKind.choices)
    note = forms.CharField(
        label=_("Note for the parent"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TransferForm(forms.Form):
    child_pin = PinField(
        label=_("Child's PIN"),
        max_length=14,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    school = SchoolChoiceField(label=_("New school"), queryset=School.objects.none())
    language = forms.ChoiceField(label=_("Language of instruction"), choices=Language.choices)
    number = forms.CharField(label=_("Number of the decision"), max_length=64)
    decided_on = forms.DateField(label=_("Date of the decision"), widget=DATE)

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["school"]
        field.queryset = schools
