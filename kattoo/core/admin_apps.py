from django.contrib.admin.apps import AdminConfig


class KattooAdminConfig(AdminConfig):
    default_site = "kattoo.core.admin_site.KattooAdminSite"
