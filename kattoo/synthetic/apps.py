from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    """Registered only so that ``manage.py generate_country`` is found; the app has no models."""

    name = "kattoo.synthetic"
    label = "synthetic"
