from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "kattoo.catalog"
    label = "catalog"
