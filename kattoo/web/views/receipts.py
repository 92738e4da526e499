"""A registration's receipt as a PDF, for the parent who may see the registration, in the
language of the page (issue 14): the number, the child, the school, the class, the place in the
queue and what to bring to the school and when (§21)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kattoo.catalog.selectors import localized_name
from kattoo.core.clock import BISHKEK
from kattoo.enrollment.models import Application, Status
from kattoo.enrollment.receipts import application_number, receipt_pdf
from kattoo.people.models import Relation

from ..access import applicant_required
from ..templatetags.parent import language_class
from .applicant import _application


def _what_to_bring(application: Application, representative: bool) -> list[str]:
    """§21: only the documents the regulation lists; the school may not ask for others."""
    campaign = application.campaign
    notes = [
        _(
            "After the admission notice, bring the originals of two medical certificates to the "
            "school between %(start)s and %(end)s: the medical certificate of health and the "
            "certificate of vaccinations."
        )
        % {
            "start": date_format(campaign.medical_from, "d.m.Y"),
            "end": date_format(campaign.medical_until, "d.m.Y"),
        }
    ]
    if representative:
        notes.append(_("Bring the original of the act proving your status; the school checks it."))
    notes.append(
        _("The school may not ask for any other document, test or interview for admission.")
    )
    return notes


@applicant_required
def application_receipt_pdf(request: HttpRequest, application_id: str) -> HttpResponse:
    application = _application(request, application_id)
    child = application.child
    created = timezone.localtime(application.created_at, BISHKEK)
    rows = [
        (_("Registration number"), application_number(application)),
        (_("Registered at"), date_format(created, "d.m.Y H:i")),
        (_("Child"), child.full_name),
        (_("Date of birth"), date_format(child.birth_date, "d.m.Y")),
        (_("School"), localized_name(application.school)),
        (_("School address"), localized_name(application.school, "address")),
        (_("Class"), str(language_class(application.language))),
        (_("Place in the queue"), str(application.position)),
        (_("Ground"), application.get_route_display()),
        (_("Status"), application.get_status_display()),
    ]
    representative = application.applicant_id == getattr(request.user, "person_id", None) and (
        application.child.applicant_links.filter(
            applicant_id=application.applicant_id, relation=Relation.REPRESENTATIVE
        ).exists()
    )
    notes = (
        _what_to_bring(application, representative)
        if application.status in (Status.REGISTERED, Status.ADMITTED)
        else []
    )
    body = receipt_pdf(
        title=_("Receipt of the electronic registration for the first grade"),
        subtitle=f"{localized_name(application.school)} · {application.campaign.title}",
        rows=rows,
        notes=notes,
        footer=_(
            "Kattoo: electronic registration of children into the first grade of state and "
            "municipal schools of the Kyrgyz Republic."
        )
        + f" {application.pk}",
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{application_number(application)}.pdf"'
    )
    return response
