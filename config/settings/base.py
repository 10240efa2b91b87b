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
    "questionnaire",
    "advisor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that accepts connections but never answers must not hold a web worker
    # for long: libpq gives up connecting, and the server cancels a statement, in bounds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
            "options": f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 20000)}",
        }
    )
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
if not DEMO_RUN_SOFT_TIME_LIMIT < DEMO_RUN_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT:
    raise ValueError(
        "Demo run time limits must satisfy soft < hard < CELERY_VISIBILITY_TIMEOUT, got "
        f"{DEMO_RUN_SOFT_TIME_LIMIT} < {DEMO_RUN_TIME_LIMIT} < {CELERY_VISIBILITY_TIMEOUT}"
    )


# Shared report pages are rendered once per report and ruleset version and kept here
# (locmem locally; production uses Redis). APP_RELEASE, set per deploy, starts afresh.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SHARED_REPORT_CACHE_SECONDS = env_int("SHARED_REPORT_CACHE_SECONDS", 60 * 60)
APP_RELEASE = os.environ.get("APP_RELEASE", "")


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own default handler would print each of its lines a second time beside ours.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
