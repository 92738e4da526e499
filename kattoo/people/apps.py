from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "kattoo.people"
    label = "people"
