from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kattoo.core"
    label = "core"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deployment's database check)
