"""The embedded default: SQLite, local memory cache, so `make run` works on a bare machine."""

import os

import dj_database_url

from .base import *  # noqa: F403
from .base import FERNET_KEYS, VAR_DIR

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
VAR_DIR.mkdir(parents=True, exist_ok=True)
# A development key: data encrypted with it is readable by anyone with this source.
FERNET_KEYS = FERNET_KEYS or ["kattoo-local-development-field-key"]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'kattoo.sqlite3'}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while the task worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
