from django.apps import AppConfig


class FraudConfig(AppConfig):
    name = "kattoo.fraud"
    label = "fraud"
