"""Production settings exactly (WhiteNoise, the manifest storage, the psycopg pool, SSL
redirect) for the production-layout test, with the local-memory cache instead of Redis,
which the test machine does not run."""

from config.settings.production import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
