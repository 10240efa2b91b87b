"""Local development: debug on, SQLite unless DATABASE_URL says otherwise."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)

# Our own 404 page even with DEBUG on: a revoked share link must not show the URL patterns.
# DJANGO_TECHNICAL_404=1 brings back Django's debug page.
if not env_bool("DJANGO_TECHNICAL_404", False):
    MIDDLEWARE = [*MIDDLEWARE, "advisor.devserver.notfound.FriendlyNotFoundMiddleware"]  # noqa: F405

# The development server logs every request, except the once-a-second polls of a running
# demo that answer normally (advisor.devserver.logs.QuietPolls), and not its reloader.
LOGGING = {
    **LOGGING,  # noqa: F405
    "filters": {
        **LOGGING["filters"],  # noqa: F405
        "quiet_polls": {"()": "advisor.devserver.logs.QuietPolls"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        **LOGGING["handlers"],  # noqa: F405
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["quiet_polls", "redact_share_tokens"],
        },
    },
    "loggers": {
        **LOGGING["loggers"],  # noqa: F405
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # "Watching for file changes with StatReloader": serve says the server reloads.
        "django.utils.autoreload": {"level": "WARNING"},
    },
}
