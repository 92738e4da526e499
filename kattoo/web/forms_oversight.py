"""Forms of the ministry's audit viewer and the fraud-signal reviews: they parse input only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kattoo.audit.reads import EXPORT, READ
from kattoo.audit.refusals import REFUSED
from kattoo.audit_viewer.selectors import CHANNELS, AuditFilter
from kattoo.audit_viewer.services import REVEAL_REASON_MAX, REVEAL_REASON_MIN
from kattoo.catalog.models import District, School
from kattoo.fraud.models import ReviewStatus, SignalKind
from kattoo.fraud.services import NOTE_MAX

from .forms_staff import DATE


class AuditFilterForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=DATE)
    until = forms.DateField(label=_("To"), required=False, widget=DATE)
    action = forms.CharField(
        label=_("Action"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    actor = forms.CharField(label=_("User name"), max_length=150, required=False)
    object_type = forms.CharField(label=_("Object type"), max_length=64, required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", "—"), *((c, c) for c in CHANNELS)]
    )
    district = forms.ModelChoiceField(
        label=_("District"), required=False, queryset=District.objects.order_by("name_ru")
    )
    school = forms.CharField(label=_("School code"), max_length=32, required=False)
    request_id = forms.CharField(label=_("Request id"), max_length=64, required=False)

    # Offered as the action field's suggestions: the oversight's own actions (§7).
    action_suggestions = (READ, EXPORT, REFUSED, "audit.reveal")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        code = (data.get("school") or "").strip()
        data["school_id"] = None
        if code:
            school = School.objects.filter(code=code).values_list("pk", flat=True).first()
            if school is None:
                self.add_error("school", _("No school has this code."))
            data["school_id"] = school
        return data

    def audit_filter(self) -> AuditFilter:
        d = self.cleaned_data
        district = d.get("district")
        return AuditFilter(
            since=d.get("since"),
            until=d.get("until"),
            action=d.get("action", "").strip(),
            actor=d.get("actor", "").strip(),
            object_type=d.get("object_type", "").strip(),
            object_id=d.get("object_id", "").strip(),
            channel=d.get("channel", ""),
            district=district.pk if district else None,
            school=d.get("school_id"),
            request_id=d.get("request_id", "").strip(),
        )


class AuditRevealForm(forms.Form):
    """Why a ministry administrator needs an event's full user name (it is audited)."""

    reason = forms.CharField(
        label=_("Reason"),
        min_length=REVEAL_REASON_MIN,
        max_length=REVEAL_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example the complaint or case number you are checking."),
    )


class SignalReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=SignalKind.choices, widget=forms.HiddenInput)
    key = forms.CharField(max_length=200, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Conclusion"), choices=ReviewStatus.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
