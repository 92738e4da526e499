from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kattoo.notifications"
    label = "notifications"
