from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "kattoo.appeals"
    label = "appeals"
