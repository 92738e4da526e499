from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "kattoo.integrations.registry"
    label = "registry"
    verbose_name = "Tunduk registry adapter"
