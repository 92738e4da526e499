"""Production settings (the psycopg pool, no DEBUG, JSON logs) for the PostgreSQL restart
test, with the local-memory cache instead of Redis, which the test machine does not run."""

from config.settings.production import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
