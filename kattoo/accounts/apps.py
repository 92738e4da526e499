from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kattoo.accounts"
    label = "accounts"
