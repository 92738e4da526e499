from django.apps import AppConfig


class CommissionConfig(AppConfig):
    name = "kattoo.commission"
    label = "commission"
