from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kattoo.reports"
    label = "reports"
