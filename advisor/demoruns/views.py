"""Demo-run pages: queue runs from a recommendation, watch one, cancel one.

Every page works without JavaScript (plain posts that redirect back, full pages); for an
htmx request a view renders only the named partial of the same template. Polling reads
the row: no view ever waits on a Celery result.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from advisor.demoruns.forms import DemoQueueForm
from advisor.demoruns.models import DemoRun
from advisor.demoruns.presentation import demo_section_context, run_context
from advisor.demoruns.services import (
    QueueUnavailable,
    demo_run_batch_error,
    demo_run_cancel,
    demo_run_enqueue,
    demo_run_sweep,
    looks_stuck,
)
from advisor.demos.scenarios import SCENARIOS
from advisor.limits import client_ip, rate_limited
from advisor.ownership import session_owns
from advisor.reports.access import owned_report
from advisor.reports.models import Report

QUEUED = "Queued {count} demo run{plural}: {titles}."
CANCELLED = "Cancelled the {scenario} run."
ALREADY_FINISHED = "That run had already finished."


def owned_run(request: HttpRequest, run_id: UUID) -> DemoRun:
    """The run if this visitor's session owns its assessment; 404 otherwise."""
    run = get_object_or_404(DemoRun.objects.select_related("assessment"), pk=run_id)
    if not session_owns(request, run.assessment_id):
        raise Http404("No such demo run")
    return run


def report_url(report: Report | None, anchor: str = "demo-runs") -> str:
    if report is None:
        return reverse("questionnaire:home")
    return f"{reverse('advisor:report', args=[report.pk])}#{anchor}"


def render_section(
    request: HttpRequest,
    report: Report,
    *,
    queue_form: DemoQueueForm | None = None,
    notice: str = "",
    status: int = 200,
) -> TemplateResponse:
    """The demo-runs section alone (htmx swaps it in place on the report page)."""
    section = demo_section_context(report, is_owner=True, queue_form=queue_form)
    section["notice"] = notice
    return TemplateResponse(
        request, "demoruns/section.html", {**section, "section": section}, status=status
    )


def _queue(
    request: HttpRequest, report: Report, form: DemoQueueForm
) -> tuple[list[str], int | None]:
    """Queue every chosen scenario, all or none; errors go onto the form.

    Returns (the titles of the runs queued, seconds to wait when a limit refused them).
    Raises QueueUnavailable (nothing queued, the error on the form) when the broker is down.
    """
    chosen = form.chosen()
    session = request.session.session_key or ""
    too_many = demo_run_batch_error(chosen=len(chosen), owner_session=session)
    if too_many:
        form.add_error(too_many)
        return [], None
    try:
        with transaction.atomic():
            for scenario, parameters in chosen:
                demo_run_enqueue(
                    assessment=report.assessment,
                    scenario=scenario,
                    parameters=parameters,
                    owner_session=session,
                    owner_client=client_ip(request),
                    **form.runs_on.options(),
                )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, field_errors in error.message_dict.items():
                form.add_error(field_errors[0], scenario=scenario, field=field)
            return [], None
        form.add_error(error.messages[0])
        if error.code == "limit":
            return [], error.params["retry_after"]
        return [], None
    except QueueUnavailable as error:
        form.add_error(str(error))
        raise
    return [SCENARIOS[scenario].title for scenario, _ in chosen], None


@require_http_methods(["GET", "POST"])
@rate_limited("demo_queue")
def demo_runs_queue(request: HttpRequest, report_id: UUID) -> HttpResponse:
    """The form to queue demo runs (also shown on the report page), and its post."""
    report = owned_report(request, report_id)
    answers = report.answers
    if request.method == "GET":
        form = DemoQueueForm(answers)
        return TemplateResponse(
            request, "demoruns/queue.html", {"report": report, "queue_form": form}
        )
    form = DemoQueueForm(answers, data=request.POST)
    if not request.session.session_key:
        request.session.save()
    # 422 for inline errors, as every form here; 429 with Retry-After when a limit refused
    # the runs; 503 when the queue cannot be reached. base.html tells htmx to swap them in.
    status = 422
    try:
        queued, retry_after = _queue(request, report, form) if form.is_valid() else ([], None)
    except QueueUnavailable:
        queued, retry_after, status = [], None, 503
    if retry_after is not None:
        status = 429
    if queued:
        notice = QUEUED.format(
            count=len(queued), plural="" if len(queued) == 1 else "s", titles="; ".join(queued)
        )
        if request.htmx:
            return render_section(request, report, notice=notice)
        messages.success(request, notice)
        return redirect(report_url(report))
    if request.htmx:
        response = render_section(request, report, queue_form=form, status=status)
    else:
        context = {"report": report, "queue_form": form}
        response = TemplateResponse(request, "demoruns/queue.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_GET
def demo_run_detail(request: HttpRequest, run_id: UUID) -> TemplateResponse:
    """One run: its progress while it runs (htmx polls this), then its charts."""
    run = owned_run(request, run_id)
    if looks_stuck(run):
        demo_run_sweep()
        run.refresh_from_db()
    context = {
        "demo": run_context(run, is_owner=True),
        "report": run.assessment.reports.first(),
        # Polled from the run's own page, where its title is the h1 (not the report's h3).
        "standalone": request.GET.get("standalone") == "1",
    }
    template = "demoruns/run.html#run" if request.htmx else "demoruns/run.html"
    return TemplateResponse(request, template, context)


@require_POST
def demo_run_cancel_view(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = owned_run(request, run_id)
    cancelled = demo_run_cancel(run=run)
    if request.htmx:
        context = {
            "demo": run_context(run, is_owner=True),
            "standalone": request.GET.get("standalone") == "1",
        }
        return TemplateResponse(request, "demoruns/run.html#run", context)
    messages.info(
        request, CANCELLED.format(scenario=run.scenario) if cancelled else ALREADY_FINISHED
    )
    return redirect(report_url(run.assessment.reports.first(), anchor=f"run-{run.pk}"))
