"""The JSON API: `POST /api/v1/assessments` scores an answers object in one call.

Its OpenAPI document (questionnaire/openapi.py) is served at /api/v1/openapi.json; the
fuzz test (tests/questionnaire/test_api_fuzz.py) holds every answer here to it.
Every answer is JSON, errors included: {"errors": {"<field>": "<message>"}}.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from advisor.engine.answers import AnswersError, check_answer, validate_answers
from advisor.engine.bank import default_bank
from advisor.engine.textinput import TextInputError, parse_json
from advisor.limits import rate_limited
from advisor.reports.sharing import share_link_create
from advisor.rulesets.services import NoPublishedRules
from questionnaire.openapi import openapi_document
from questionnaire.services import assessment_create, assessment_submit

MAX_BODY_BYTES = 64 * 1024
# Messages (tests import them); each follows the field it is filed under.
BODY_PROBLEM = "the body {problem}"
NOT_JSON = "send the answers as JSON (Content-Type: application/json)"
TOO_LARGE = f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
ONLY_POST = "only POST is allowed here"
NOT_A_FIELD = "'{name}' is not a field of the request; send 'answers' and optionally 'title'"
WRAPPER_FIELDS = {"answers", "title"}
API_LINK_LABEL = "Created by the API"


def error_response(errors: dict[str, str], status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status)


def validated_answers(raw) -> dict:
    """The answers to the questions shown for them, in bank order; AnswersError otherwise.

    Stricter than the wizard's stored answers: a value sent for a hidden question must
    still be one of that question's values (it is then dropped, not stored).
    """
    bank = default_bank()
    errors = {}
    if isinstance(raw, dict):
        for question_id, value in raw.items():
            question = bank.by_id.get(question_id)
            message = check_answer(question, value) if question else None
            if message:
                errors[question_id] = message
    try:
        answers = validate_answers(raw, bank)
    except AnswersError as error:
        raise AnswersError({**errors, **error.errors}) from None
    if errors:
        raise AnswersError(errors)
    return answers


def read_payload(request: HttpRequest):
    """(title, raw answers) from the body, or a JsonResponse naming what is wrong."""
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if size > MAX_BODY_BYTES:
        return error_response({"body": TOO_LARGE}, status=413)
    if request.content_type != "application/json":
        return error_response({"body": NOT_JSON}, status=415)
    try:
        body = request.body
    except RequestDataTooBig:
        return error_response({"body": TOO_LARGE}, status=413)
    if len(body) > MAX_BODY_BYTES:
        return error_response({"body": TOO_LARGE}, status=413)
    try:
        payload = parse_json(body or b"null")
    except TextInputError as error:
        return error_response({"body": BODY_PROBLEM.format(problem=error.message)})
    if isinstance(payload, dict) and isinstance(payload.get("answers"), dict):
        extra = sorted(str(name) for name in payload if name not in WRAPPER_FIELDS)
        if extra:
            return error_response({name: NOT_A_FIELD.format(name=name[:60]) for name in extra})
        return payload.get("title", ""), payload["answers"]
    return "", payload


@csrf_exempt  # a token-less JSON API: it sets and reads no cookie, so CSRF cannot apply
@never_cache  # the 201 carries share URLs: no cache may keep them
@rate_limited("api", methods=("POST",), as_json=True)
def assessments_create(request: HttpRequest) -> JsonResponse:
    """Create a submitted assessment and its report from an answers object.

    The body is the answers object itself, or {"answers": {...}, "title": "..."}. Only
    the validated answers are stored. The share link it makes expires after
    API_SHARE_LINK_DAYS days.
    """
    if request.method != "POST":
        response = error_response({"method": ONLY_POST}, status=405)
        response["Allow"] = "POST"
        return response
    payload = read_payload(request)
    if isinstance(payload, JsonResponse):
        return payload
    title, raw_answers = payload
    try:
        answers = validated_answers(raw_answers)
    except AnswersError as error:
        return error_response(error.errors)
    expires_at = timezone.now() + timedelta(days=settings.API_SHARE_LINK_DAYS)
    try:
        with transaction.atomic():  # all or nothing: no orphan assessment on an error
            assessment = assessment_create(title=title)
            assessment.answers = answers
            assessment.save(update_fields=["answers"])
            report = assessment_submit(assessment=assessment)
            _, token = share_link_create(report=report, label=API_LINK_LABEL, expires_at=expires_at)
    except ValidationError as error:
        return error_response({field: " ".join(messages) for field, messages in error})
    except NoPublishedRules as error:
        return error_response({"rules": str(error)}, status=503)

    def absolute(name: str) -> str:
        return request.build_absolute_uri(reverse(name, args=[token]))

    return JsonResponse(
        {
            "id": str(assessment.pk),
            "report_id": str(report.pk),
            "recommendation": report.recommendation,
            "scores": report.result["scores"],
            "margin": report.result["margin"],
            "ruleset": report.ruleset.version,
            "report_url": absolute("advisor:shared_json"),
            "share_url": absolute("advisor:shared"),
            "adr_url": absolute("advisor:shared_adr"),
            "expires_at": expires_at.isoformat(),
        },
        status=201,
    )


@never_cache
def openapi_json(request: HttpRequest) -> JsonResponse:
    """The API's OpenAPI 3.1 document, built from the question bank it validates against."""
    return JsonResponse(openapi_document(default_bank()), json_dumps_params={"indent": 1})
