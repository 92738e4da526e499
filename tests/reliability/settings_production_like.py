"""Production settings (the psycopg pool, no DEBUG, JSON logs) for the PostgreSQL restart
test, with the local-memory cache instead of Redis, which the test machine does not run."""

import os

# Fakes (file outbox, registry fake) under production settings: allowed on this rig only.
os.environ.setdefault("KATTOO_ALLOW_FAKE_BACKENDS", "1")

from config.settings.production import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# These tests do not run `collectstatic`: file names without the manifest's hashes (the static
# layout of production is proven by tests/deploy/test_nginx_static.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
