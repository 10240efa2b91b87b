"""Secrets out of sight: session keys stored only as keyed hashes, tokens kept out of logs,
and short sessions for staff accounts."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

# Changing it changes every stored fingerprint (migration 0005 uses the same value).
FINGERPRINT_SALT = "advisor.owner_session"
# A share link's path: /s/<token>/...; only the first characters (the hint the owner and
# the admin see) survive in logs.
SHARE_TOKEN_IN_PATH = re.compile(r"(/s/)([A-Za-z0-9_-]{1,6})[A-Za-z0-9_%-]*")


def fingerprint(secret: str | None) -> str:
    """A keyed hash (HMAC-SHA256 with SECRET_KEY) of a session key or address, "" for none.

    Rows store this instead of the value: a session key is a live credential (as a cookie
    it opens the visitor's reports) and an address is personal data; the fingerprint
    still tells two visitors apart for the limits, and opens nothing.
    """
    if not secret:
        return ""
    return salted_hmac(FINGERPRINT_SALT, secret, algorithm="sha256").hexdigest()


def redact_share_tokens(text: str) -> str:
    return SHARE_TOKEN_IN_PATH.sub(r"\1\2…", text)


class RedactShareTokens(logging.Filter):
    """Replace share tokens in a log line ("Not Found: /s/<token>/") by their hint."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_share_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


@receiver(user_logged_in, dispatch_uid="advisor.staff_session_expiry")
def shorten_staff_sessions(sender, request, user, **kwargs) -> None:
    """A staff account's session lasts ADMIN_SESSION_AGE, not a visitor's 90 days."""
    if request is not None and user.is_staff and hasattr(request, "session"):
        request.session.set_expiry(settings.ADMIN_SESSION_AGE)
