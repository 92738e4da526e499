"""Production settings for the proof behind nginx (tests/security/production/): production's
psycopg pool, Redis cache (kattoo.core.cache.RedisCache at ``REDIS_URL``, the test's own
redis-server), trusted-proxy middleware and JSON logs, with the file "phone" and the registry
fake allowed on this rig only.

The sign-in limits are production's, except what the stack that runs them sets through
``KATTOO_PROOF_LOGIN`` (JSON merged over ``KATTOO_LOGIN``): the tests state the numbers they
count against, and one stack lowers the country-wide budget of codes a minute to reach it.
Passwords use the tests' fast hasher (below)."""

import json
import os

# Fakes (file outbox, registry fake) under production settings: allowed on this rig only.
os.environ.setdefault("KATTOO_ALLOW_FAKE_BACKENDS", "1")

from config.settings import production
from tests.reliability.settings_production_like import *  # noqa: F403

CACHES = production.CACHES  # Redis, over the locmem cache of the PostgreSQL-restart rig
KATTOO_LOGIN = {**KATTOO_LOGIN, **json.loads(os.environ.get("KATTOO_PROOF_LOGIN", "{}"))}  # noqa: F405
# The tests' fast password hasher (the demo is built with it, settings_demo.py): the proof
# makes dozens of staff sign-ins, and what it counts is refusals, not the hasher's cost.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Where an upload larger than the in-memory limit would be spooled: the test proves an
# oversized body never gets there.
FILE_UPLOAD_TEMP_DIR = os.environ.get("KATTOO_PROOF_UPLOAD_TMP") or None
