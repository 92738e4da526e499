from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """§7: the purge of personal data past its retention period. It reaches into every app that
    holds personal data, so it sits above them all; nothing imports it."""

    name = "kattoo.retention"
    label = "retention"
