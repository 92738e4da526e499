"""Tests: PostgreSQL when DATABASE_URL says so (CI), otherwise SQLite (the smoke run)."""

import os

import dj_database_url

from .base import *  # noqa: F403
from .base import FERNET_KEYS

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FERNET_KEYS = FERNET_KEYS or ["kattoo-test-field-key"]
_url = os.environ.get("DATABASE_URL", "sqlite:///:memory:")
DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=0)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": ""}
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
else:
    # As in production: parameters bound by the server, statements prepared (ADR 0015).
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 1}
    if os.environ.get("KATTOO_TEST_DB_NAME"):
        # Lets several suites run side by side on one PostgreSQL (one test database each).
        DATABASES["default"]["TEST"] = {"NAME": os.environ["KATTOO_TEST_DB_NAME"]}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
KATTOO_NOTIFICATIONS = {"BACKEND": "kattoo.notifications.backends.MemoryBackend", "FILE": ""}
KATTOO_REGISTRY = {
    "BACKEND": "kattoo.integrations.registry.fake.FakeRegistry",
    "POPULATION_FILE": "",
}

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kattoo-test-media-"))
