from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kattoo.audit"
    label = "audit"
