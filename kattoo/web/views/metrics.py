"""``/metrics`` for Prometheus: not public (``access.metrics_scraper``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from kattoo.core.metrics import metrics_response

from ..access import metrics_scraper


@metrics_scraper
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    return metrics_response()
