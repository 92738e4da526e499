"""Production settings exactly (WhiteNoise, the manifest storage, the psycopg pool, SSL
redirect) for the production-layout test, with the local-memory cache instead of Redis,
which the test machine does not run."""

import os

# Fakes (file outbox, registry fake) under production settings: allowed on this rig only.
os.environ.setdefault("KATTOO_ALLOW_FAKE_BACKENDS", "1")

from config.settings.production import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
