"""Public pages of open data: aggregates with small cells withheld (§9), and each school's
quota history — who changed what, when (RULES.md §4)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import schools_participating
from kattoo.enrollment.models import Application, SeatPool
from kattoo.quotas.models import QuotaEvent
from kattoo.reports.exports import localized_places
from kattoo.reports.selectors import report_applications, report_seats, suppress_small_cells

from ..access import public

COUNTS = ("registered", "admitted", "refused", "cancelled", "above_quota")


@public
def open_data(request: HttpRequest) -> HttpResponse:
    campaign = campaign_active()
    by = ["region", "language"]
    rows = suppress_small_cells(
        report_applications(campaign=campaign, applications=Application.objects.all(), by=by),
        COUNTS,
    )
    seats = report_seats(campaign=campaign, pools=SeatPool.objects.all(), by=by)
    rows, seats = localized_places(rows), localized_places(seats)  # in the page's language
    return render(
        request, "web/open_data.html", {"rows": rows, "seats": seats, "campaign": campaign}
    )


@public
def quota_log(request: HttpRequest, school_id: int) -> HttpResponse:
    school = get_object_or_404(schools_participating(), pk=school_id)
    events = (
        QuotaEvent.objects.filter(quota__school=school, quota__campaign=campaign_active())
        .select_related("actor")
        .order_by("at", "id")
    )
    return render(request, "web/quota_log.html", {"school": school, "events": events})
