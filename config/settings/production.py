"""Production: every secret from the environment; passes `manage.py check --deploy`."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, MIDDLEWARE, REDIS_URL, env_bool

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# One year, the least the browsers' preload lists accept; `preload` is only claimed when
# the max-age qualifies (a shorter one, e.g. while trying HTTPS out, drops it).
ONE_YEAR = 60 * 60 * 24 * 365
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", ONE_YEAR))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS >= ONE_YEAR
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# whitenoise serves the collected static files (htmx, plotly.js, our CSS) from the app.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]

# Rendered shared report pages, shared by every web server (REDIS_URL by default).
CACHES = {
    **CACHES,
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("CACHE_URL", REDIS_URL),
        "KEY_PREFIX": "advisor",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}
