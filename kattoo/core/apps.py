from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kattoo.core"
    label = "core"
