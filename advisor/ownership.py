"""Who may open an assessment's pages: the browser session that made it.

The wizard remembers each assessment it creates in the visitor's session; reports
and demo runs of that assessment are then that visitor's too. Nobody else can
reach them but through a share link.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest

SESSION_ASSESSMENTS = "assessment_ids"
REMEMBERED_LIMIT = 50


def remember_assessment(request: HttpRequest, assessment) -> None:
    """Make this session the assessment's owner (most recent first)."""
    ids = [i for i in request.session.get(SESSION_ASSESSMENTS, []) if i != str(assessment.pk)]
    request.session[SESSION_ASSESSMENTS] = [str(assessment.pk), *ids][:REMEMBERED_LIMIT]


def session_owns(request: HttpRequest, assessment_id: UUID) -> bool:
    """Whether this visitor's session made the assessment."""
    return str(assessment_id) in request.session.get(SESSION_ASSESSMENTS, [])
