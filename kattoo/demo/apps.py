from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kattoo.demo"
    label = "demo"
