from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "kattoo.enrollment"
    label = "enrollment"
