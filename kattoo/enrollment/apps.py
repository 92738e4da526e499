from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "kattoo.enrollment"
    label = "enrollment"

    def ready(self) -> None:
        from kattoo.core.metrics import scrape_time_collector_add

        from . import opening_hold  # noqa: F401  (registers the hold's deployment check)
        from .metrics import PoolFillCollector

        scrape_time_collector_add(PoolFillCollector())
