"""The test suite: fast hashing, in-memory email, an in-process Celery broker."""

import os
import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import SILENCED_SYSTEM_CHECKS

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Rate-limit counters in this process: each test clears them (tests/conftest.py). One
# process, so a local-memory cache counts right; django-ratelimit warns it is not shared.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"},
}
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "django_ratelimit.E003"]

# Runs are sent to the broker inside the transaction that queues them: in the suite they
# go to an in-process queue that nothing consumes, unless a test (the worker tests) names
# a real broker in the environment.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
# Each run measures under this root; the suite's own, apart from a running app's.
DEMO_RUN_WORK_ROOT = os.environ.get(
    "DEMO_RUN_WORK_ROOT", str(Path(tempfile.gettempdir()) / "advisor-demo-runs-tests")
)
