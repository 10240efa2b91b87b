"""The questionnaire: landing page, the step-by-step wizard, resume and submit.

Every view works without JavaScript (plain form posts, full pages); for an htmx
request the view renders only the named partial of the same template.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url, reswap, retarget

from advisor.engine.answers import AnswersError, allowed_values
from advisor.engine.bank import QuestionBank, Section, default_bank
from advisor.limits import (
    TOO_MANY_REQUESTS,
    rate_in_words,
    rate_limit_exceeded,
    rate_limited,
    wait_in_words,
)
from advisor.ownership import SESSION_ASSESSMENTS, remember_assessment, session_owns
from advisor.rulesets.services import NoPublishedRules
from questionnaire.forms import PLEASE_ANSWER, StepForm
from questionnaire.models import Assessment
from questionnaire.services import (
    assessment_create,
    assessment_save_answers,
    assessment_submit,
)

# The home page lists this visitor's assessments (at most REMEMBERED_LIMIT), a page at a time.
RECENT_PER_PAGE = 10
TAMPERED = "Some of what was sent does not fit this questionnaire; nothing you saved was lost."
MISSING_ELSEWHERE = "A few questions are still unanswered; they are marked below."


def owned_assessment(request: HttpRequest, assessment_id: UUID) -> Assessment:
    """The assessment if this visitor's session made it; 404 otherwise (reveals nothing)."""
    if not session_owns(request, assessment_id):
        raise Http404("No such assessment")
    return get_object_or_404(Assessment, pk=assessment_id)


def step_url(assessment: Assessment, section: Section) -> str:
    return reverse("questionnaire:step", args=[assessment.pk, section.id])


def progress(bank: QuestionBank, answers: dict) -> tuple[int, int]:
    shown = bank.shown_questions(answers)
    # An optional question counts once answered; left out, its neutral default applies.
    counted = [q for q in shown if not q.optional or q.id in answers]
    return sum(1 for question in counted if question.id in answers), len(counted)


@require_GET
def home(request: HttpRequest) -> TemplateResponse:
    bank = default_bank()
    ids = request.session.get(SESSION_ASSESSMENTS, [])
    assessments = Assessment.objects.filter(pk__in=ids).order_by("-updated_at", "pk")
    page = Paginator(assessments, RECENT_PER_PAGE).get_page(request.GET.get("page"))
    for assessment in page:
        assessment.answered, assessment.shown = progress(bank, assessment.answers)
    return TemplateResponse(
        request,
        "questionnaire/home.html",
        {
            "bank": bank,
            "question_count": len(bank.questions),
            "recent": page,
        },
    )


@require_POST
@rate_limited("assessment_new")
def assessment_new(request: HttpRequest) -> HttpResponseRedirect:
    try:
        assessment = assessment_create(title=request.POST.get("title", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("questionnaire:home")
    remember_assessment(request, assessment)
    return redirect(step_url(assessment, default_bank().sections[0]))


@require_GET
def assessment_resume(request: HttpRequest, assessment_id: UUID) -> HttpResponseRedirect:
    """Back where the architect left off: the last step they saved."""
    assessment = owned_assessment(request, assessment_id)
    bank = default_bank()
    sections = {section.id: section for section in bank.sections}
    section = sections.get(assessment.current_section, bank.sections[0])
    return redirect(step_url(assessment, section))


def render_step(
    request: HttpRequest,
    assessment: Assessment,
    section: Section,
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
    partial: str = "wizard",
    focus: str = "",
) -> TemplateResponse:
    """One step; ``focus`` ("heading" or "error") marks where focus goes after an htmx swap."""
    bank = default_bank()
    index = next(i for i, s in enumerate(bank.sections) if s.id == section.id)
    questions = [q for q in bank.in_section(section.id) if q.is_shown(assessment.answers)]
    answered, shown = progress(bank, assessment.answers)
    sections = []
    for position, each in enumerate(bank.sections):
        section_questions = [q for q in bank.in_section(each.id) if q.is_shown(assessment.answers)]
        done = all(q.id in assessment.answers for q in section_questions)
        sections.append(
            {
                "section": each,
                "number": position + 1,
                "done": done,
                "url": step_url(assessment, each),
                "current": each.id == section.id,
            }
        )
    errors = errors or {}
    first_error = next((q.id for q in questions if q.id in errors), None)
    context = {
        "assessment": assessment,
        "section": section,
        "sections": sections,
        "step_number": index + 1,
        "step_count": len(bank.sections),
        "is_first": index == 0,
        "is_last": index == len(bank.sections) - 1,
        "questions": [
            {
                "question": q,
                "answer": assessment.answers.get(q.id),
                "error": errors.get(q.id),
                "first_error": q.id == first_error,
                "allowed": allowed_values(q),
            }
            for q in questions
        ],
        "stray_errors": {k: v for k, v in errors.items() if k not in {q.id for q in questions}},
        "notice": notice,
        "answered": answered,
        "shown": shown,
        "percent": round(100 * answered / shown) if shown else 0,
        "step_url": step_url(assessment, section),
        "step_question_ids": " ".join(q.id for q in questions),
        "focus": focus,
    }
    template = f"questionnaire/step.html#{partial}" if request.htmx else "questionnaire/step.html"
    return TemplateResponse(request, template, context, status=status)


@never_cache  # Back in the browser shows what was saved since, never a stale copy
@require_http_methods(["GET", "POST"])
def assessment_step(request: HttpRequest, assessment_id: UUID, section_id: str) -> HttpResponse:
    assessment = owned_assessment(request, assessment_id)
    bank = default_bank()
    sections = list(bank.sections)
    section = next((s for s in sections if s.id == section_id), None)
    if section is None:
        raise Http404("No such step")
    if request.method == "GET":
        # ?check=1 marks the unanswered questions (after a submit that found some).
        missing = missing_answers(assessment, bank.in_section(section.id))
        errors = missing if request.GET.get("check") else None
        return render_step(request, assessment, section, errors=errors)

    questions = bank.in_section(section.id)
    shown_before = [q.id for q in questions if q.is_shown(assessment.answers)]
    form = StepForm(questions, bank, data=request.POST)
    form.is_valid()  # every field is optional: what fits is saved, the rest is named
    errors = form.field_errors
    errors.update(
        assessment_save_answers(
            assessment=assessment,
            answers=form.answers,
            cleared=tuple(form.cleared),
            section=section.id,
        )
    )
    assessment.refresh_from_db()
    action = request.POST.get("action", "next")
    if errors:
        return render_step(
            request, assessment, section, errors=errors, notice=TAMPERED, status=422, focus="error"
        )
    if action == "autosave":
        shown_now = [q.id for q in questions if q.is_shown(assessment.answers)]
        if not request.htmx or shown_now == shown_before:
            # Only the status and the progress change: the inputs the architect is
            # using stay in place (a swap could eat a click made meanwhile).
            return render_step(request, assessment, section, notice="saved", partial="autosaved")
        # A question appeared or disappeared: redraw the whole step.
        response = render_step(request, assessment, section, notice="saved")
        return reswap(retarget(response, "#wizard"), "outerHTML")
    index = sections.index(section)
    if action == "back":
        return go_to_step(request, assessment, sections[max(index - 1, 0)])
    missing = missing_answers(assessment, questions)
    if missing:
        return render_step(request, assessment, section, errors=missing, status=422, focus="error")
    if action == "submit" or index + 1 == len(sections):
        return submit(request, assessment)
    return go_to_step(request, assessment, sections[index + 1])


def missing_answers(assessment: Assessment, questions) -> dict[str, str]:
    return {
        q.id: PLEASE_ANSWER
        for q in questions
        if q.is_shown(assessment.answers) and q.id not in assessment.answers and not q.optional
    }


def go_to_step(request: HttpRequest, assessment: Assessment, section: Section) -> HttpResponse:
    if not request.htmx:
        return redirect(step_url(assessment, section))
    response = render_step(request, assessment, section, focus="heading")
    return push_url(response, step_url(assessment, section))


def submit(request: HttpRequest, assessment: Assessment) -> HttpResponse:
    bank = default_bank()
    exceeded = rate_limit_exceeded(request, "submit")
    if exceeded is not None:
        # Scoring is the expensive step: the answers stay saved, the visitor waits.
        rate, seconds = exceeded
        notice = TOO_MANY_REQUESTS.format(rate=rate_in_words(rate), wait=wait_in_words(seconds))
        response = render_step(request, assessment, bank.sections[-1], notice=notice, status=429)
        response["Retry-After"] = str(max(1, seconds))
        return response
    try:
        report = assessment_submit(
            assessment=assessment,
            owner_session=request.session.session_key or "",
            owner=request.user,
        )
    except AnswersError as error:
        # Send the architect to the first step with an unanswered or wrong question.
        first = next(q for q in bank.questions if q.id in error.errors)
        section = next(s for s in bank.sections if s.id == first.section)
        messages.error(request, MISSING_ELSEWHERE)
        url = step_url(assessment, section) + "?check=1"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    except NoPublishedRules as error:
        messages.error(request, f"The recommendation cannot be scored: {error}.")
        return render_step(request, assessment, bank.sections[-1], status=503)
    url = reverse("advisor:report", args=[report.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
