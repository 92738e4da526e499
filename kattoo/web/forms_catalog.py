"""Forms of the catalog upload and of "recompute drafts": they parse input only; the rules
are in kattoo.quotas.automatic and kattoo.catalog.importing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import District
from kattoo.catalog.selectors import localized_name


def campaign_choices() -> list[tuple[str, str]]:
    return [
        (c.code, f"{c.code} · {c.title}")
        for c in Campaign.objects.order_by("-stage1_starts_at", "code")
    ]


def default_campaign() -> str:
    active = Campaign.objects.filter(is_active=True).values_list("code", flat=True).first()
    return active or ""


class CatalogUploadForm(forms.Form):
    campaign = forms.ChoiceField(
        label=_("Campaign"),
        help_text=_("The class-sets of the file, and the quotas computed, are this campaign's."),
    )
    file = forms.FileField(
        label=_("Catalog file"),
        help_text=_("JSON or CSV in the documented format (docs/data-formats.md)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.csv,.tsv,.txt"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["campaign"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = campaign_choices()
        field.initial = default_campaign()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES
        if upload.size is None or upload.size > limit:
            raise forms.ValidationError(
                _("The catalog file is larger than %(mb)d MB.") % {"mb": limit // 2**20}
            )
        return upload


class QuotaRecomputeForm(forms.Form):
    campaign = forms.ChoiceField(label=_("Campaign"))
    district = forms.ChoiceField(label=_("District"), required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args: Any, district: District | None = None, **kwargs: Any) -> None:
        """``district``: the officer's own district, the only choice it has."""
        super().__init__(*args, **kwargs)
        campaign = self.fields["campaign"]
        assert isinstance(campaign, forms.ChoiceField)
        campaign.choices = campaign_choices()
        campaign.initial = default_campaign()
        field = self.fields["district"]
        assert isinstance(field, forms.ChoiceField)
        if district is not None:
            field.choices = [(district.soate, localized_name(district))]
            field.initial = district.soate
        else:
            field.choices = [("", _("the whole country"))] + [
                (d.soate, f"{localized_name(d)} ({d.soate})")
                for d in District.objects.order_by("soate")
            ]
