from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "kattoo.classes"
    label = "classes"
