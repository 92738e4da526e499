"""The fill of the seat pools as Prometheus gauges (ADR 0014), read at scrape time; added to
``/metrics`` in ``EnrollmentConfig.ready()``."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Sum
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .models import SeatPool


class PoolFillCollector(Collector):
    """Seats taken and capacity of the active campaign per district, read at scrape time: one
    grouped query over the seat pools (a few thousand rows at most)."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        rows = (
            SeatPool.objects.filter(campaign__is_active=True)
            .values("school__district__soate")
            .annotate(taken=Sum("taken"), capacity=Sum("capacity"))
            .order_by("school__district__soate")
        )
        taken = GaugeMetricFamily(
            "kattoo_pool_seats_taken",
            "Seats taken in the active campaign's pools, by district (SOATE code).",
            labels=["district"],
        )
        capacity = GaugeMetricFamily(
            "kattoo_pool_seats_capacity",
            "Seats in the active campaign's pools, by district (SOATE code).",
            labels=["district"],
        )
        fill = GaugeMetricFamily(
            "kattoo_pool_fill_ratio",
            'Seats taken / capacity of the active campaign; district "all" is the country.',
            labels=["district"],
        )
        all_taken = all_capacity = 0
        for row in rows:
            district = row["school__district__soate"]
            taken.add_metric([district], row["taken"] or 0)
            capacity.add_metric([district], row["capacity"] or 0)
            fill.add_metric([district], _ratio(row["taken"] or 0, row["capacity"] or 0))
            all_taken += row["taken"] or 0
            all_capacity += row["capacity"] or 0
        fill.add_metric(["all"], _ratio(all_taken, all_capacity))
        return [taken, capacity, fill]


def _ratio(taken: int, capacity: int) -> float:
    return taken / capacity if capacity else 0.0
