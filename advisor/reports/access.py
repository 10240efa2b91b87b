"""Who may read a report: the visitor who made it, or whoever holds a live share link."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from advisor.ownership import session_owns
from advisor.reports.models import Report, ShareLink
from advisor.reports.sharing import link_for_token, report_for_token


def owned_report(request: HttpRequest, report_id: UUID) -> Report:
    """The report if this visitor made it (their session, or their account); else 404."""
    report = get_object_or_404(Report.objects.select_related("ruleset", "assessment"), pk=report_id)
    in_session = session_owns(request, report.assessment_id)
    is_owner = request.user.is_authenticated and report.owner_id == request.user.pk
    if not (in_session or is_owner):
        raise Http404("No such report")
    return report


def shared_report(token: str) -> Report:
    report = report_for_token(token)
    if report is None:
        raise Http404("No such report")  # the same answer for wrong, revoked and expired
    return report


def shared_link(token: str) -> ShareLink:
    """The active link a token opens (see link_for_token); 404 otherwise."""
    link = link_for_token(token)
    if link is None:
        raise Http404("No such report")  # the same answer for wrong, revoked and expired
    return link
