from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kattoo.web"
    label = "web"
