"""The JSON API: `POST /api/v1/assessments` scores an answers object in one call."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from advisor.engine.answers import AnswersError, validate_answers
from advisor.engine.bank import default_bank
from advisor.reports.sharing import share_link_create
from advisor.rulesets.services import NoPublishedRules
from questionnaire.services import assessment_create, assessment_submit

MAX_BODY_BYTES = 64 * 1024
INVALID_JSON = "the body is not valid JSON ({detail})"
NOT_JSON = "send the answers as JSON (Content-Type: application/json)"
TOO_LARGE = f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
TITLE_NOT_TEXT = "the title is text of at most 200 characters"


def error_response(errors: dict[str, str], status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status)


@csrf_exempt  # a token-less JSON API: it sets and reads no cookie, so CSRF cannot apply
@require_POST
def assessments_create(request: HttpRequest) -> JsonResponse:
    """Create a submitted assessment and its report from an answers object.

    The body is the answers object itself, or {"answers": {...}, "title": "..."}.
    """
    if len(request.body) > MAX_BODY_BYTES:
        return error_response({"body": TOO_LARGE}, status=413)
    if request.content_type != "application/json":
        return error_response({"body": NOT_JSON}, status=415)
    try:
        payload = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return error_response({"body": INVALID_JSON.format(detail=error)})
    title = ""
    answers = payload
    if isinstance(payload, dict) and isinstance(payload.get("answers"), dict):
        answers, title = payload["answers"], payload.get("title", "")
        if not isinstance(title, str) or len(title) > 200:
            return error_response({"title": TITLE_NOT_TEXT})
    try:
        validate_answers(answers, default_bank())
    except AnswersError as error:
        return error_response(error.errors)
    assessment = assessment_create(title=title)
    assessment.answers = answers
    assessment.save(update_fields=["answers"])
    try:
        report = assessment_submit(assessment=assessment)
    except NoPublishedRules as error:
        return error_response({"rules": str(error)}, status=503)
    _, token = share_link_create(report=report, label="Created by the API")
    share_url = request.build_absolute_uri(reverse("advisor:shared", args=[token]))
    return JsonResponse(
        {
            "id": str(assessment.pk),
            "report_id": str(report.pk),
            "recommendation": report.recommendation,
            "scores": report.result["scores"],
            "margin": report.result["margin"],
            "ruleset": report.ruleset.version,
            "report_url": request.build_absolute_uri(reverse("advisor:shared_json", args=[token])),
            "share_url": share_url,
            "adr_url": request.build_absolute_uri(reverse("advisor:shared_adr", args=[token])),
        },
        status=201,
    )
