from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "kattoo.integrations.registry"
    label = "registry"
    verbose_name = "Tunduk registry adapter"

    def ready(self) -> None:
        # /readyz reports the registry but stays ready without it: registration keeps working
        # from verified data.
        from kattoo.core.health import degradation_check_add

        from .health import registry_recently_failed

        degradation_check_add("registry", registry_recently_failed)
