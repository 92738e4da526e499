from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "kattoo.campaigns"
    label = "campaigns"
