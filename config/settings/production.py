"""Production: PostgreSQL via DATABASE_URL with Django's psycopg 3 pool, Redis, no DEBUG."""

import os
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, MIDDLEWARE

DEBUG = False
# The demo builder creates accounts with a published password: never on a real deployment.
KATTOO_DEMO_ALLOWED = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
# §7: the keys of personal data at rest (base.py); no default here, a missing one stops start.
FERNET_KEYS = [k for k in os.environ["KATTOO_FIELD_KEYS"].split(",") if k]
if not FERNET_KEYS:
    raise ImproperlyConfigured("KATTOO_FIELD_KEYS must name at least one key")

DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
DATABASES["default"]["OPTIONS"] = {
    # Parameters bound by the server and statements prepared once per connection: the
    # registration's queries are planned once, not at every request (ADR 0015).
    "server_side_binding": True,
    "prepare_threshold": int(os.environ.get("KATTOO_DB_PREPARE_THRESHOLD", "1")),
    # One generic plan per prepared statement and connection: planned once, never re-planned
    # per request or drifting with the parameters (issue 15; the hot statements' first plan is
    # built on the indexes, enrollment/fastpath.py ``_index_plan``).
    "options": "-c plan_cache_mode="
    + os.environ.get("KATTOO_DB_PLAN_CACHE_MODE", "force_generic_plan"),
    # A bounded pool: under overload requests wait briefly, then fail fast instead of piling up.
    "pool": {
        "min_size": int(os.environ.get("KATTOO_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("KATTOO_DB_POOL_MAX", "16")),
        "timeout": float(os.environ.get("KATTOO_DB_POOL_TIMEOUT", "2")),
        # psycopg_pool's default, stated: the opening's hold of autovacuum starts longer than
        # this before a stage opens (kattoo/enrollment/opening_hold.py, ADR 0062).
        "max_lifetime": 3600.0,
    },
}

# Admission control (kattoo/web/admission.py): in flight per process = twice the pool, of
# which at most the pool's size served by Django (such a request holds its connection to the
# end, one more would only wait for it); the opening minute's plain submits, which wait for
# their batch holding no connection (ADR 0050), fill the rest: the more of them wait together,
# the larger a process's batches, and the less CPU a registration costs (ADR 0053, 0055, 0065:
# more registrations a second and less CPU each; the p99 near its target in this machine's
# slowest phases).
KATTOO_ADMISSION_LIMIT = int(
    os.environ.get(
        "KATTOO_ADMISSION_LIMIT", 2 * DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    )
)

KATTOO_SEATS_CACHE_SECONDS = float(os.environ.get("KATTOO_SEATS_CACHE_SECONDS", "1"))

# Redis: the seat lists' 1-second cache and the sign-in limits' counters. Its outage is never a
# 500 (kattoo/core/cache.py, ADR 0020): seat lists read the database, sign-ins that must count
# answer 503 with Retry-After, /readyz says why. Short timeouts: a hung Redis fails fast.
CACHES = {
    "default": {
        "BACKEND": "kattoo.core.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "OPTIONS": {
            "socket_connect_timeout": float(os.environ.get("KATTOO_REDIS_TIMEOUT", "0.5")),
            "socket_timeout": float(os.environ.get("KATTOO_REDIS_TIMEOUT", "0.5")),
        },
    }
}

# Static files (ADR 0019): `manage.py collectstatic` writes them once per release into
# STATIC_ROOT (KATTOO_STATIC_ROOT) with the content's hash in each name, plus gzip and brotli
# copies; nginx serves /static/ from there (deploy/nginx/kattoo.conf) and WhiteNoise serves the
# same files when a request reaches the application directly (a balancer without nginx, a
# probe). A hashed name never changes content, so it is cached for a year ("immutable").
# `collectstatic` is part of every install and upgrade: without its manifest, pages fail.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 60  # names without a hash (e.g. /static/web/kattoo.css) may change
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
# Behind nginx the client's address comes from X-Forwarded-For, believed only from these
# networks (kattoo/core/proxy.py); empty = REMOTE_ADDR as it is.
KATTOO_TRUSTED_PROXIES = [
    net
    for net in os.environ.get("KATTOO_TRUSTED_PROXIES", "127.0.0.1/32,::1/128").split(",")
    if net.strip()
]
MIDDLEWARE.insert(0, "kattoo.core.proxy.TrustedProxyMiddleware")

SECURE_HSTS_SECONDS = int(os.environ.get("KATTOO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_SSL_REDIRECT = os.environ.get("KATTOO_SSL_REDIRECT", "1") == "1"
# The balancer's probes and the scraper call app nodes directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# One JSON object a line (timestamp, level, logger, message, request_id, user_id, extras) for
# the log collector; KATTOO_LOG_FORMAT=plain gives the readable lines of local settings.
_console: dict[str, Any] = LOGGING["handlers"]["console"]  # type: ignore[index]
_console["formatter"] = os.environ.get("KATTOO_LOG_FORMAT", "json")

# ADR 0022: a deployment sends real SMS and asks the real registry. The file "phone" and the
# registry fake stop the start, unless KATTOO_ALLOW_FAKE_BACKENDS=1 (the test rigs and the
# bench, which run production settings with fakes).
_FAKE_BACKENDS = {
    "kattoo.notifications.backends.FileBackend",
    "kattoo.notifications.backends.MemoryBackend",
    "kattoo.integrations.registry.fake.FakeRegistry",
}
_fakes = _FAKE_BACKENDS & {KATTOO_NOTIFICATIONS["BACKEND"], KATTOO_REGISTRY["BACKEND"]}  # noqa: F405
if _fakes and not KATTOO_ALLOW_FAKE_BACKENDS:  # noqa: F405
    raise ImproperlyConfigured(
        f"{', '.join(sorted(_fakes))} in production: configure KATTOO_NOTIFICATIONS_BACKEND "
        "(the SMS gateway) and KATTOO_REGISTRY_BACKEND (X-Road), or set "
        "KATTOO_ALLOW_FAKE_BACKENDS=1 on a test rig"
    )
