from django.contrib import admin
from django.urls import include, path

from kattoo.api.v1 import api as api_v1
from kattoo.core.health import healthz, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", include("kattoo.web.urls")),
]
