"""The recommendation (report) pages and the trade-offs page."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from advisor.demo_presentation import demo_section_context
from advisor.knowledge import tradeoffs as tradeoff_entries
from advisor.models import Report
from advisor.presentation import recommendation_context
from questionnaire.views import SESSION_ASSESSMENTS


def owned_report(request: HttpRequest, report_id: UUID) -> Report:
    """The report if this visitor made it (their session, or their account); else 404."""
    report = get_object_or_404(Report.objects.select_related("ruleset", "assessment"), pk=report_id)
    in_session = str(report.assessment_id) in request.session.get(SESSION_ASSESSMENTS, [])
    is_owner = request.user.is_authenticated and report.owner_id == request.user.pk
    if not (in_session or is_owner):
        raise Http404("No such report")
    return report


@require_GET
def report_detail(request: HttpRequest, report_id: UUID) -> TemplateResponse:
    report = owned_report(request, report_id)
    context = recommendation_context(report)
    context["is_owner"] = True
    context["demo_section"] = demo_section_context(report, is_owner=True)
    return TemplateResponse(request, "advisor/report.html", context)


@require_GET
def tradeoffs(request: HttpRequest) -> TemplateResponse:
    entries = list(tradeoff_entries().values())
    return TemplateResponse(
        request,
        "advisor/tradeoffs.html",
        {
            "article": [entry for entry in entries if entry.kind == "article"],
            "expert": [entry for entry in entries if entry.kind == "expert"],
        },
    )
