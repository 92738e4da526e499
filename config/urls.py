from django.contrib import admin
from django.urls import include, path

from kattoo.api.v1 import api as api_v1
from kattoo.core.health import healthz, readyz
from kattoo.web.views.metrics import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("", include("kattoo.web.urls")),
]

# A database that does not answer is a 503 to retry (a translated page), not a 500.
handler500 = "kattoo.core.unavailable.server_error"
# What Django refuses before any view (a Host it does not allow), and a path no route knows:
# a problem document on the API's paths.
handler400 = "kattoo.api.problems.bad_request"
handler404 = "kattoo.api.problems.not_found"
