from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "kattoo.waitlist"
    label = "waitlist"
