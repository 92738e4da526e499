"""Settings shared by every environment. Environment files override, never copy."""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KATTOO_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-only-key-change-me")
DEBUG = False
ALLOWED_HOSTS: list[str] = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")

INSTALLED_APPS = [
    "kattoo.core.admin_apps.KattooAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "kattoo.core",
    "kattoo.accounts",
    "kattoo.audit",
    "kattoo.campaigns",
    "kattoo.catalog",
    "kattoo.people",
    "kattoo.quotas",
    "kattoo.enrollment",
    "kattoo.waitlist",
    "kattoo.integrations.registry",
    "kattoo.notifications",
    "kattoo.appeals",
    "kattoo.commission",
    "kattoo.classes",
    "kattoo.reports",
    "kattoo.fraud",
    "kattoo.audit_viewer",
    "kattoo.retention",
    "kattoo.synthetic",
    "kattoo.web",
    "kattoo.demo",
]

MIDDLEWARE = [
    # First, so the latency it measures includes every other middleware.
    "kattoo.core.metrics.MetricsMiddleware",
    "kattoo.core.request_id.RequestIdMiddleware",
    "kattoo.core.logging.LogContextMiddleware",
    # Before anything reads the body (the session, CSRF, views): 413 by Content-Length.
    "kattoo.core.body_limit.BodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # API writes with a body are JSON only: no cross-site "simple" POST reaches a handler.
    "kattoo.api.content_type.JsonWritesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kattoo.web.access.AccessMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kattoo" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kattoo.web.context_processors.server_time",
            ],
        },
    },
]

# A strict Content-Security-Policy: only our own scripts, styles and images; no inline script,
# no framing. htmx runs without eval and without its injected indicator styles (base.html).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Kyrgyz is the state language and the default; Russian, Uzbek (Latin script: the schools of Osh,
# Jalal-Abad and Batken that teach in Uzbek) and English follow (RULES.md, README).
LANGUAGE_CODE = "ky"
LANGUAGES = [
    ("ky", _("Kyrgyz")),
    ("ru", _("Russian")),
    ("uz", _("Uzbek")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Every campaign time is Asia/Bishkek (RULES.md §5).
TIME_ZONE = "Asia/Bishkek"

STATIC_URL = "static/"
# Where `collectstatic` writes (served by nginx and WhiteNoise in production, docs/deployment.md).
STATIC_ROOT = Path(os.environ.get("KATTOO_STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = VAR_DIR / "media"

# Oversized bodies are refused before they are parsed (answered 413 by the API).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# A Unicode TrueType font for PDF exports (Kyrgyz letters ң, ө, ү); Debian's fonts-dejavu-core.
KATTOO_PDF_FONT = os.environ.get(
    "KATTOO_PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
)

# The largest request body (kattoo/core/body_limit.py): an upload endpoint accepts its file
# limit plus the multipart overhead, every other address KATTOO_BODY_MAX_BYTES; a larger body is
# refused with 413 by its Content-Length (or, sent without one, once that much was read) before
# Django parses or spools it. nginx's client_max_body_size (25m) must allow the largest.
KATTOO_BODY_MAX_BYTES = int(os.environ.get("KATTOO_BODY_MAX_BYTES", str(1024 * 1024)))
KATTOO_BODY_OVERHEAD_BYTES = 64 * 1024

# Guardian acts and other documents (§20): the largest file accepted.
KATTOO_UPLOAD_MAX_BYTES = 5_000_000
# Catalog files (docs/data-formats.md): the largest accepted from the web page and the API
# (nginx's client_max_body_size must allow it), and where the web page keeps an uploaded file
# between its dry run and its import (ADR 0017).
KATTOO_CATALOG_UPLOAD_MAX_BYTES = int(
    os.environ.get("KATTOO_CATALOG_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))
)
KATTOO_CATALOG_UPLOAD_DIR = Path(os.environ.get("KATTOO_CATALOG_UPLOAD_DIR", VAR_DIR / "uploads"))

# /metrics (kattoo.core.metrics): a bearer token, or a direct call from these networks.
KATTOO_METRICS = {
    "TOKEN": os.environ.get("KATTOO_METRICS_TOKEN", ""),
    "ALLOW": os.environ.get("KATTOO_METRICS_ALLOW", "127.0.0.1/32,::1/128").split(","),
}

# §7: phones, e-mail and document numbers are encrypted at rest (django-fernet-fields-v2).
# KATTOO_FIELD_KEYS is comma-separated: the first key encrypts, every key decrypts, so a new
# key goes first and the old ones stay until `manage.py personal_data_reencrypt` has run.
# Local and test settings have a development default; production requires the variable.
FERNET_KEYS: list[str] = [k for k in os.environ.get("KATTOO_FIELD_KEYS", "").split(",") if k]
FERNET_USE_HKDF = True

# §7: how long personal data is kept after a campaign ends before `purge_personal_data`
# anonymises it (the period is set by the digital-sphere authority, so it is a setting).
KATTOO_RETENTION = {"DAYS_AFTER_CAMPAIGN": int(os.environ.get("KATTOO_RETENTION_DAYS", "365"))}

# ADR 0062: from 70 minutes before a stage opens (a pooled connection's lifetime and ten
# minutes) until this many minutes after, the minute timer holds autovacuum off the tables a
# registration writes (`opening_hold`); 0 = never.
KATTOO_OPENING_HOLD = {"AFTER_MINUTES": int(os.environ.get("KATTOO_OPENING_HOLD_MINUTES", "30"))}

# Fraud signals for district officers (kattoo/fraud, docs/fraud-signals.md): a signal is a list
# to review, never a refusal. Births, not children: twins and triplets of one family count once.
KATTOO_FRAUD = {
    "CHILDREN_PER_APPLICANT": int(os.environ.get("KATTOO_FRAUD_CHILDREN_PER_APPLICANT", "3")),
    "BIRTHS_PER_ADDRESS": int(os.environ.get("KATTOO_FRAUD_BIRTHS_PER_ADDRESS", "4")),
    "ADDRESS_WINDOW_DAYS": int(os.environ.get("KATTOO_FRAUD_ADDRESS_WINDOW_DAYS", "90")),
    "TEACHER_WINDOW_DAYS": int(os.environ.get("KATTOO_FRAUD_TEACHER_WINDOW_DAYS", "30")),
    "LIST_LIMIT": 200,
}

CACHES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Requests in flight per process before "503 busy, retry" (kattoo/web/admission.py, wrapping
# the WSGI application); 0 = off.
KATTOO_ADMISSION_LIMIT = int(os.environ.get("KATTOO_ADMISSION_LIMIT", "0"))
KATTOO_ADMISSION_RETRY_AFTER = 2
# The opening minute's plain draft submit answered in front of Django (kattoo/api/hot.py,
# ADR 0027); 0 sends every request through Django (the same answers, more CPU).
KATTOO_SLIM_SUBMIT = os.environ.get("KATTOO_SLIM_SUBMIT", "1") == "1"
# Its concurrent requests read and written together, one statement for those that arrived
# while the last one ran (kattoo/enrollment/fastpath.py, ADR 0048); 0 = one statement each.
KATTOO_COMBINE = os.environ.get("KATTOO_COMBINE", "1") == "1"
# How old a public free-seat count may be (kattoo/api/cache.py); 0 = always fresh.
KATTOO_SEATS_CACHE_SECONDS = float(os.environ.get("KATTOO_SEATS_CACHE_SECONDS", "0"))

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The registry (Tunduk) adapter: which implementation, and for the fake the population file.
KATTOO_REGISTRY = {
    "BACKEND": os.environ.get(
        "KATTOO_REGISTRY_BACKEND", "kattoo.integrations.registry.fake.FakeRegistry"
    ),
    "POPULATION_FILE": os.environ.get(
        "KATTOO_REGISTRY_POPULATION", str(VAR_DIR / "registry-population.json")
    ),
}

# Applicant sign-in (kattoo.accounts.login, ADR 0023). Limits count in fixed windows of
# WINDOW_SECONDS, per client address as kattoo.core.proxy takes it from trusted proxies:
# codes per (PIN, client), per PIN (all clients: a phone is never bombed), per client, and
# the country's codes a minute (the SMS gateway's capacity; past it 503, nobody locked out);
# wrong codes per challenge and per client.
KATTOO_LOGIN = {
    "CODE_TTL_SECONDS": 300,
    "ATTEMPTS_PER_CODE": 5,
    "CODES_PER_PIN_CLIENT": int(os.environ.get("KATTOO_LOGIN_CODES_PER_PIN_CLIENT", "3")),
    "CODES_PER_PIN": int(os.environ.get("KATTOO_LOGIN_CODES_PER_PIN", "10")),
    "CODES_PER_CLIENT": int(os.environ.get("KATTOO_LOGIN_CODES_PER_CLIENT", "30")),
    "CODES_PER_MINUTE": int(os.environ.get("KATTOO_LOGIN_CODES_PER_MINUTE", "3000")),
    "WRONG_CODES_PER_CLIENT": int(os.environ.get("KATTOO_LOGIN_WRONG_CODES_PER_CLIENT", "20")),
    "WINDOW_SECONDS": 900,
    "TOKEN_DAYS": 30,
}

# `manage.py load_demo` (demo accounts with a published password) runs only where this is
# true; production settings turn it off.
KATTOO_DEMO_ALLOWED = True

# Staff accounts (kattoo.accounts.staff, ADR 0018): the one-time enrolment link a new person
# (or one who lost the phone) opens to choose a password and enrol an authenticator, and the
# lifetime of staff API tokens. KATTOO_PUBLIC_URL is the address people open in a browser.
KATTOO_PUBLIC_URL = os.environ.get("KATTOO_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Whom a parent calls or writes to, shown on the help page (/help/) and the sign-in pages:
# the ministry's (or the operator's) call centre. Empty values are not shown.
KATTOO_CONTACT = {
    "PHONE": os.environ.get("KATTOO_CONTACT_PHONE", ""),
    "HOURS": os.environ.get("KATTOO_CONTACT_HOURS", ""),
    "EMAIL": os.environ.get("KATTOO_CONTACT_EMAIL", ""),
    "FEEDBACK_URL": os.environ.get("KATTOO_FEEDBACK_URL", ""),
}
KATTOO_STAFF = {
    "ENROLMENT_HOURS": int(os.environ.get("KATTOO_STAFF_ENROLMENT_HOURS", "72")),
    "TOKEN_HOURS": int(os.environ.get("KATTOO_STAFF_TOKEN_HOURS", "12")),
    # A staff web session ends this long after sign-in (applicants keep Django's two weeks).
    "SESSION_HOURS": int(os.environ.get("KATTOO_STAFF_SESSION_HOURS", "12")),
}
# Staff choose their own password on the enrolment page; these are the checks it passes.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Where SMS and e-mail go: a file (the demo's "phone") until a gateway backend is configured.
KATTOO_NOTIFICATIONS = {
    "BACKEND": os.environ.get(
        "KATTOO_NOTIFICATIONS_BACKEND", "kattoo.notifications.backends.FileBackend"
    ),
    "FILE": os.environ.get("KATTOO_NOTIFICATIONS_FILE", str(VAR_DIR / "outbox.jsonl")),
}
# Messages the outbox drain hands to the gateway side by side (manage.py notifications_drain):
# each send waits for the gateway's answer, so one at a time is ~1 / its latency a second.
# Within the provider's own limit on parallel requests.
KATTOO_NOTIFICATIONS_CONCURRENCY = int(os.environ.get("KATTOO_NOTIFICATIONS_CONCURRENCY", "16"))

# The SMS gateway over HTTP (kattoo.integrations.sms, ADR 0022): set
# KATTOO_NOTIFICATIONS_BACKEND=kattoo.integrations.sms.gateway.HttpSmsGateway. Token or
# login/password; the gateway posts delivery reports with REPORT_SECRET in X-Kattoo-Sms-Secret.
KATTOO_SMS = {
    "URL": os.environ.get("KATTOO_SMS_URL", ""),
    "LOGIN": os.environ.get("KATTOO_SMS_LOGIN", ""),
    "PASSWORD": os.environ.get("KATTOO_SMS_PASSWORD", ""),
    "TOKEN": os.environ.get("KATTOO_SMS_TOKEN", ""),
    "SENDER": os.environ.get("KATTOO_SMS_SENDER", "Kattoo"),
    "REPORT_SECRET": os.environ.get("KATTOO_SMS_REPORT_SECRET", ""),
    "TIMEOUT": float(os.environ.get("KATTOO_SMS_TIMEOUT", "5")),
    "RETRIES": int(os.environ.get("KATTOO_SMS_RETRIES", "3")),
    "BACKOFF_INITIAL": float(os.environ.get("KATTOO_SMS_BACKOFF_INITIAL", "0.2")),
}
# Production refuses the file "phone" and the registry fake unless this says otherwise
# (kattoo.notifications.checks; only for test rigs and the bench that run production settings).
KATTOO_ALLOW_FAKE_BACKENDS = os.environ.get("KATTOO_ALLOW_FAKE_BACKENDS", "") == "1"

# The X-Road REST client (kattoo.integrations.registry.xroad), docs/tunduk-protocol.md.
KATTOO_XROAD = {
    "SECURITY_SERVER": os.environ.get("KATTOO_XROAD_SECURITY_SERVER", "http://127.0.0.1:8100"),
    "CLIENT": os.environ.get("KATTOO_XROAD_CLIENT", "central-server/GOV/70000001/kattoo"),
    "CONNECT_TIMEOUT": float(os.environ.get("KATTOO_XROAD_CONNECT_TIMEOUT", "1")),
    "READ_TIMEOUT": float(os.environ.get("KATTOO_XROAD_READ_TIMEOUT", "3")),
    "RETRIES": int(os.environ.get("KATTOO_XROAD_RETRIES", "3")),
    "BREAKER_FAIL_MAX": int(os.environ.get("KATTOO_XROAD_BREAKER_FAIL_MAX", "5")),
    "BREAKER_RESET_SECONDS": float(os.environ.get("KATTOO_XROAD_BREAKER_RESET_SECONDS", "30")),
    "BACKOFF_INITIAL": float(os.environ.get("KATTOO_XROAD_BACKOFF_INITIAL", "0.1")),
    "BACKOFF_MAX": float(os.environ.get("KATTOO_XROAD_BACKOFF_MAX", "1")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_pins": {"()": "kattoo.core.logging.MaskPinsFilter"},
        "request_id": {"()": "kattoo.core.request_id.RequestIdFilter"},
        "user_id": {"()": "kattoo.core.logging.UserIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # Production (settings/production.py): one JSON object a line for the log collector.
        "json": {"()": "kattoo.core.logging.JsonLogFormatter"},
        # Django's own for the development server's access log (runserver).
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "user_id", "mask_pins"],
            "formatter": "plain",
        },
        # Django's default handler for runserver's access log, with the PINs in request lines
        # (``/login/?pin=…``) masked like every other log line (issue 13).
        "django.server": {
            "class": "logging.StreamHandler",
            "filters": ["mask_pins"],
            "formatter": "django.server",
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KATTOO_LOG_LEVEL", "INFO")},
    "loggers": {
        # fontTools (PDF font subsetting) is chatty at INFO.
        "fontTools": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
