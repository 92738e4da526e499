from django.apps import AppConfig


class AuditViewerConfig(AppConfig):
    name = "kattoo.audit_viewer"
    label = "audit_viewer"
