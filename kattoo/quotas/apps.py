from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "kattoo.quotas"
    label = "quotas"
