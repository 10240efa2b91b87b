"""Share links: capability URLs to one report (W3C TAG, "Good practices for capability URLs").

A token carries 192 random bits from `secrets`; only its SHA-256 is stored, so the
database alone opens nothing. Whoever holds the token may read the report and its
exports; nothing reached by a token can change anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from advisor.reports.models import Report, ShareLink
from advisor.reports.pagecache import shared_page_forget
from advisor.rulesets.models import RuleSet
from advisor.validators import validated_text

TOKEN_BYTES = 24  # 192 bits; the W3C TAG asks for at least 128
EXPIRY_IN_THE_PAST = "The expiry must be in the future."
LABEL_MAX_LENGTH = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def share_link_create(
    *, report: Report, label: str = "", expires_at: datetime | None = None
) -> tuple[ShareLink, str]:
    """Make a new link to the report; returns it with its token, which is never stored."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": EXPIRY_IN_THE_PAST})
    label = validated_text(label, field="label", label="The label", max_length=LABEL_MAX_LENGTH)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(
        report=report,
        token_hash=token_hash(token),
        token_hint=token[:6],
        label=label,
        expires_at=expires_at,
    )
    link.full_clean()
    link.save()
    return link, token


@transaction.atomic
def share_link_revoke(*, link: ShareLink) -> ShareLink:
    """Revoke a link at once; revoking twice keeps the first time. The rendered shared
    page is forgotten too (the link is checked before any cached page is served)."""
    link = ShareLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    transaction.on_commit(lambda: shared_page_forget(report_ids=[link.report_id]))
    return link


def _open(token: str, links: QuerySet[ShareLink]) -> ShareLink | None:
    """The active link of `links` that a token opens; None for a wrong, revoked or expired one."""
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    link = links.filter(token_hash=digest).first()
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return None
    return link


def link_for_token(token: str) -> ShareLink | None:
    """The active link a token opens and the current ruleset's version
    (``current_ruleset_version``), in one small query: what a cached shared page needs.
    The report itself is not loaded (``link.report`` reads it when asked)."""
    current = RuleSet.objects.published().order_by("-published_at", "-pk").values("version")
    links = ShareLink.objects.active().annotate(current_ruleset_version=Subquery(current[:1]))
    return _open(token, links.only("pk", "token_hash", "report_id"))


def report_for_token(token: str) -> Report | None:
    """The report an active link opens, or None for a wrong, revoked or expired token."""
    link = _open(token, ShareLink.objects.active().select_related("report", "report__ruleset"))
    return link.report if link is not None else None
