"""Settings shared by every environment; each value can be set from the environment."""

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value and value.strip() else default


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
# The public address of this site (e.g. https://advisor.example.com), for absolute links
# in documents that leave it (the ADR). Unset, those link the primary sources instead,
# never the address a request happened to use (which may be 127.0.0.1).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "simple_history",
    "csp",
    "django_ratelimit",
    "questionnaire",
    "advisor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Before anything reads the body: 413 for a body over the limit, 400 for NUL in a field.
    "advisor.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_config(url: str, *, connect_timeout: int, statement_timeout_ms: int) -> dict:
    """One database from its URL, with timeouts that free a web worker from a hung database.

    A PostgreSQL server that accepts connections but never answers held each gunicorn
    worker for its whole 30 s timeout; `connect_timeout` (libpq, whole seconds) bounds
    opening a connection and `statement_timeout` (the server's, milliseconds) every query.
    """
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", connect_timeout)
        options.setdefault("options", f"-c statement_timeout={statement_timeout_ms}")
    return config


# Both well under gunicorn's 30 s timeout; the slowest query the app makes (the impact
# preview over every submitted assessment) reads rows and scores them in Python.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 15_000)
DATABASES = {
    "default": database_config(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        connect_timeout=DATABASE_CONNECT_TIMEOUT,
        statement_timeout_ms=DATABASE_STATEMENT_TIMEOUT_MS,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

SESSION_COOKIE_AGE = 60 * 60 * 24 * 90  # keep an architect's assessments for a quarter
# A staff account's session ends after a working day: its cookie is worth far more.
ADMIN_SESSION_AGE = env_int("ADMIN_SESSION_AGE", 60 * 60 * 8)

# Headers every page sends, the admin's included (issue 12). Scripts only from our own
# static files: no inline script, no inline event handler, no eval. Styles likewise:
# plotly.js skips injecting its <style> when the page links its stylesheet as
# #plotly.js-style-global.no-inline-styles (static/vendor/plotly/plotly.css); it sets
# the rest through the CSSOM, which CSP does not govern.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Nothing here needs a device or a powerful feature: deny them all, to every frame.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}

# Rate limits (django-ratelimit) count in Redis, shared by every web process; "default"
# stays a per-process cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "advisor.limits.ForgivingRedisCache",
        "LOCATION": os.environ.get(
            "RATELIMIT_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        ),
        "KEY_PREFIX": "ratelimit",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
# Redis unreachable: serve the request unlimited rather than refuse everyone.
RATELIMIT_FAIL_OPEN = True
# The client's address: REMOTE_ADDR, or the one the trusted proxies in front saw.
RATELIMIT_IP_META_KEY = "advisor.limits.client_ip"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Django's own RedisCache increments atomically (INCR); django-ratelimit only lists
# django-redis by name.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# Per client address, "count/period" (s, m, h, d). A person submits a few assessments an
# hour; a script the API serves at one every two seconds, bursts of 30.
RATE_LIMITS = {
    "api": ["30/m", "300/h"],
    "assessment_new": ["20/m", "200/h"],
    "submit": ["20/m", "200/h"],
    "share_link_new": ["20/m", "100/h"],
    "demo_queue": ["20/m"],
    "admin_login": ["5/m", "30/h"],
    "admin_login_username": ["10/h"],
}
# Share links the API creates open their report for this long (the owner's pages offer
# "never" on purpose; a script's links should not live forever).
API_SHARE_LINK_DAYS = env_int("API_SHARE_LINK_DAYS", 30)

# Celery: Redis for the broker and results (DESIGN.md "Services").
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1


# Redis redelivers a message no worker acknowledged (the worker died) after this many
# seconds; every time limit below stays well under it, so a live run is never handed to a
# second worker. Restore scans run often enough for a short timeout (the worker test uses 8 s).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1 if CELERY_VISIBILITY_TIMEOUT < 600 else 10,
}
# Queueing must fail fast, with a clear page, when Redis does not answer (no retry loop).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 3, "socket_timeout": 10})
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# Demo runs have a queue of their own: demo workers (`celery -A config worker -Q demos
# -c 1`, one per machine, so runs never measure each other) consume only it.
DEMO_RUN_QUEUE = os.environ.get("DEMO_RUN_QUEUE", "demos")
CELERY_TASK_ROUTES = {"*.execute_demo_run": {"queue": DEMO_RUN_QUEUE}}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Every demo worker sweeps stuck runs when it starts and then every so many seconds
# (advisor/demoruns/worker.py); pages that see a stuck run and `manage.py demo_sweep` too.
DEMO_RUN_SWEEP_INTERVAL = env_int("DEMO_RUN_SWEEP_INTERVAL", 30)
# A queued run whose message the broker no longer holds after this long (Redis restarted
# empty) is sent again, once; lost again, it fails with the reason.
DEMO_RUN_RESEND_AFTER = env_int("DEMO_RUN_RESEND_AFTER", 30)
# Each run measures in its own folder under this root, on the machine of its worker; the
# sweep there removes the folders of runs that no longer run (a killed worker's).
DEMO_RUN_WORK_ROOT = os.environ.get(
    "DEMO_RUN_WORK_ROOT", str(Path(tempfile.gettempdir()) / "advisor-demo-runs")
)

# Demo runs (issue 6). A run plans at most 30 s per side; the slowest scenario with its
# largest parameters (clustering, 6 nodes at the lowest probe rate) needs a few minutes.
DEMO_RUN_SOFT_TIME_LIMIT = env_int("DEMO_RUN_SOFT_TIME_LIMIT", 10 * 60)
DEMO_RUN_TIME_LIMIT = env_int("DEMO_RUN_TIME_LIMIT", DEMO_RUN_SOFT_TIME_LIMIT + 60)
# A running run writes a heartbeat about every second; one silent for this long has lost
# its worker: a redelivered task may take it over, and the sweep marks it failed.
DEMO_RUN_HEARTBEAT_TIMEOUT = env_int("DEMO_RUN_HEARTBEAT_TIMEOUT", 60)
# A queued run no worker has started after this long is marked failed (is a worker running?).
DEMO_RUN_QUEUE_TIMEOUT = env_int("DEMO_RUN_QUEUE_TIMEOUT", 30 * 60)
# Attempts (first run plus takeovers after a lost worker) before a run is marked failed.
DEMO_RUN_MAX_ATTEMPTS = env_int("DEMO_RUN_MAX_ATTEMPTS", 2)
# Runs one visitor (session) may have queued or running at once.
DEMO_RUNS_PER_SESSION = env_int("DEMO_RUNS_PER_SESSION", 3)
# Runs one client address may have queued or running at once, however many sessions it
# opens: two people behind one office address still queue a full set each.
DEMO_RUNS_PER_CLIENT = env_int("DEMO_RUNS_PER_CLIENT", 6)
# Runs queued or running for everyone. One worker runs one at a time, a run takes about a
# minute (at most its time limit), and a run no worker starts within DEMO_RUN_QUEUE_TIMEOUT
# fails: 12 keeps the last of them well inside that half hour. Raise it with more workers.
DEMO_RUNS_UNFINISHED_MAX = env_int("DEMO_RUNS_UNFINISHED_MAX", 12)
if not DEMO_RUN_SOFT_TIME_LIMIT < DEMO_RUN_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT:
    raise ValueError(
        "Demo run time limits must satisfy soft < hard < CELERY_VISIBILITY_TIMEOUT, got "
        f"{DEMO_RUN_SOFT_TIME_LIMIT} < {DEMO_RUN_TIME_LIMIT} < {CELERY_VISIBILITY_TIMEOUT}"
    )


# Shared report pages are rendered once per report and ruleset version and kept in the
# "default" cache (per process here; production uses Redis). APP_RELEASE, set per deploy,
# starts afresh.
SHARED_REPORT_CACHE_SECONDS = env_int("SHARED_REPORT_CACHE_SECONDS", 60 * 60)
APP_RELEASE = os.environ.get("APP_RELEASE", "")

# Every line goes through one handler whose filter replaces share tokens by their hint
# (Django logs "Not Found: /s/<token>/" for a revoked link). Django's own loggers are
# named so that none keeps a handler of its default configuration.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_share_tokens": {"()": "advisor.security.RedactShareTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_share_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own default handlers would print each of its lines a second time beside ours.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
