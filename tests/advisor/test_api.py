"""The JSON API, as a script with curl would use it."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from advisor.models import Report, ShareLink
from questionnaire.models import Assessment
from tests.conftest import load_personas

pytestmark = pytest.mark.django_db
PERSONAS = load_personas()
URL = "/api/v1/assessments"


def post(body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client(enforce_csrf_checks=True).post(URL, data, content_type=content_type)


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_post_answers_creates_a_submitted_assessment_and_report(published_ruleset, name):
    response = post(PERSONAS[name]["answers"])
    assert response.status_code == 201
    data = response.json()
    assert set(data) >= {"id", "recommendation", "scores", "report_url", "share_url"}
    assert data["recommendation"] in PERSONAS[name]["expect"]
    assessment = Assessment.objects.get(pk=data["id"])
    assert assessment.is_submitted
    assert Report.objects.get(assessment=assessment).recommendation == data["recommendation"]
    assert data["share_url"].startswith("http://testserver/s/")
    stranger = Client()
    page = stranger.get(data["share_url"])
    assert page.status_code == 200 and "<h1>" in page.content.decode()
    exported = stranger.get(data["report_url"]).json()
    assert exported["recommendation"] == data["recommendation"]
    assert exported["scores"] == data["scores"]
    adr = stranger.get(data["share_url"] + "adr.md").content.decode()
    assert "## Decision Outcome" in adr


def test_title_and_answers_wrapped(published_ruleset):
    body = {"title": "Fraud analytics", "answers": PERSONAS["telemetry_lake"]["answers"]}
    data = post(body).json()
    assert Assessment.objects.get(pk=data["id"]).title == "Fraud analytics"


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"throughput": "fast"}, "throughput", '"fast" is not allowed'),
        ({}, "data_role", "is required"),
        ("{not json", "body", "the body is not valid JSON"),
        ([1, 2], "answers", "expected a JSON object"),
    ],
)
def test_bad_input_answers_400_with_errors_by_field(published_ruleset, body, field, fragment):
    response = post(body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert fragment in errors[field]
    assert not Assessment.objects.exists() and not ShareLink.objects.exists()


def test_every_wrong_field_is_named(published_ruleset):
    answers = dict(PERSONAS["telemetry_lake"]["answers"], throughput="fast", colour="red")
    errors = post(answers).json()["errors"]
    assert set(errors) == {"throughput", "colour"}


def test_the_body_must_be_json(published_ruleset):
    response = post("data_role=events", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["errors"]["body"]


def test_only_post(published_ruleset):
    assert Client().get(URL).status_code == 405
    assert reverse("questionnaire:api_assessments") == URL
