"""The production-like settings with production's own cache: Redis at ``REDIS_URL`` (the
test's own redis-server, tests/reliability/test_redis_stop.py)."""

import os

# Fakes (file outbox, registry fake) under production settings: allowed on this rig only.
os.environ.setdefault("KATTOO_ALLOW_FAKE_BACKENDS", "1")

from config.settings import production
from tests.reliability.settings_production_like import *  # noqa: F403

CACHES = production.CACHES  # kattoo.core.cache.RedisCache, over the locmem one
