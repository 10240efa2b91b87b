"""The shared report page, rendered once and kept in Django's cache (Redis in production).

A report is an immutable snapshot, so its shared page changes only when the current rules
change (the page then offers a comparison: the key holds the current ruleset version),
when a section of it changes (a demo run succeeds: that part forgets the page), or with a
deploy (``APP_RELEASE`` in the key). The link is checked before the cache is read, so a
revoked or expired link never gets a cached page, and revoking forgets the page. The
cached HTML holds nothing of one visitor or one link: no token (its links are relative),
no CSRF token, no messages. A cache that fails only costs a render.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from advisor.rulesets.models import RuleSet

logger = logging.getLogger(__name__)


def shared_page_key(*, report_id: UUID | str, ruleset_version: str | None) -> str:
    return f"shared-report:{settings.APP_RELEASE}:{report_id}:{ruleset_version or '-'}"


def shared_page_get(key: str) -> str | None:
    try:
        return cache.get(key)
    except Exception:  # a cache that fails must not fail the page
        logger.warning("shared report cache: read failed", exc_info=True)
        return None


def shared_page_set(key: str, html: str) -> None:
    try:
        cache.set(key, html, settings.SHARED_REPORT_CACHE_SECONDS)
    except Exception:
        logger.warning("shared report cache: write failed", exc_info=True)


def shared_page_forget(*, report_ids: Iterable[UUID | str]) -> None:
    """Forget the rendered pages of these reports (under the current rules)."""
    current = RuleSet.objects.current()
    version = current.version if current else None
    keys = [shared_page_key(report_id=pk, ruleset_version=version) for pk in report_ids]
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("shared report cache: forgetting failed", exc_info=True)
