"""Input at every edge: what used to answer 500 (on PostgreSQL above all) now answers 4xx.

Each test reproduces one finding of issue 12 through the real request path. CI runs the
suite against PostgreSQL, where a NUL character or NaN in stored text or JSON fails.
"""

import json

import pytest
from django.test import Client

from advisor.engine import textinput
from advisor.reports.models import ShareLink
from questionnaire import api
from questionnaire.models import Assessment
from tests.conftest import load_personas

pytestmark = pytest.mark.django_db
PERSONAS = load_personas()
API = "/api/v1/assessments"


def post_json(body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post(API, data, content_type="application/json", **extra)


def answers(persona="telemetry_lake"):
    return dict(PERSONAS[persona]["answers"])


# -- the JSON API ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 1000 + "]" * 1000, textinput.TOO_DEEP.format(limit=32)),
        (
            '{"data_role": ' + "9" * 5000 + "}",
            textinput.NUMBER_TOO_LONG.format(length=5000, limit=40),
        ),
        ('{"data_role": NaN}', textinput.NOT_A_NUMBER.format(constant="NaN")),
        ("{not json", "is not valid JSON"),
        (b'{"title": "\xff"}', textinput.NOT_UTF8),
    ],
)
def test_malformed_json_answers_a_json_400_naming_the_problem(published_ruleset, body, message):
    response = post_json(body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["errors"]["body"]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Orders \x00", textinput.NUL_CHARACTER),
        ("Orders \ud800", textinput.LONE_SURROGATE.format(code=0xD800)),
        ("Orders \u202e", textinput.BIDI_CONTROL.format(code=0x202E)),
        ("x" * 201, textinput.TOO_LONG.format(length=201, limit=200)),
    ],
)
def test_a_title_we_refuse_answers_400_naming_it(published_ruleset, title, message):
    # json.dumps writes a lone surrogate as the escape \\ud800, as a client would send it.
    response = post_json({"title": title, "answers": answers()})
    assert response.status_code == 400
    assert response.json()["errors"]["title"] == f"The title {message}."
    assert not Assessment.objects.exists()


def test_only_the_validated_answers_are_stored(published_ruleset):
    sent = answers()
    sent["topology"] = "single"  # hides client_placement ...
    sent["client_placement"] = "leader_aware"  # ... so this answer is dropped
    response = post_json(sent)
    assert response.status_code == 201
    stored = Assessment.objects.get(pk=response.json()["id"]).answers
    assert "client_placement" not in stored
    assert stored["topology"] == "single"


def test_a_wrong_value_for_a_hidden_question_is_still_an_error(published_ruleset):
    sent = dict(answers(), topology="single", client_placement=float("inf"))
    response = post_json(json.dumps(sent).replace("Infinity", "1e999"))
    assert response.status_code == 400
    assert textinput.NUMBER_TOO_LARGE.format(literal="1e999") in response.json()["errors"]["body"]
    sent["client_placement"] = 42
    errors = post_json(sent).json()["errors"]
    assert set(errors) == {"client_placement"}


def test_unknown_fields_beside_answers_are_named(published_ruleset):
    response = post_json({"answers": answers(), "titel": "typo"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"titel": api.NOT_A_FIELD.format(name="titel")}


def test_a_body_over_64_kib_answers_413_and_one_over_django_s_limit_too(published_ruleset):
    big = json.dumps({"title": "x" * (70 * 1024), "answers": answers()})
    response = post_json(big)
    assert response.status_code == 413
    assert response.json()["errors"]["body"] == api.TOO_LARGE
    huge = "[" + "1," * (1536 * 1024) + "1]"  # 3 MiB, past DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post_json(huge)
    assert response.status_code == 413
    assert "bytes" in response.json()["errors"]["body"]


def test_other_methods_answer_405_as_json(published_ruleset):
    response = Client().get(API)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["errors"]["method"] == api.ONLY_POST


def test_the_201_is_never_cached_and_its_share_link_expires(published_ruleset, settings):
    settings.API_SHARE_LINK_DAYS = 7
    response = post_json(answers())
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    link = ShareLink.objects.get()
    assert link.expires_at is not None
    assert (link.expires_at - link.created_at).days in {6, 7}
    assert response.json()["expires_at"].startswith(link.expires_at.date().isoformat())


def test_the_api_is_rate_limited_per_client_with_retry_after(published_ruleset, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": ["2/m"]}
    assert post_json(answers()).status_code == 201
    assert post_json(answers()).status_code == 201
    limited = post_json(answers())
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "at most 2 per minute" in limited.json()["errors"]["rate"]
    # Another client address is counted apart.
    other = post_json(answers(), REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 201


def test_the_openapi_document_is_served_and_names_every_question(bank):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    schema = document["components"]["schemas"]["Answers"]
    assert set(schema["properties"]) == set(bank.by_id)
    for question in bank.questions:
        prop = schema["properties"][question.id]
        values = prop.get("enum") or prop.get("items", {}).get("enum")
        assert values is None or values == list(question.values)
    assert "201" in document["paths"]["/api/v1/assessments"]["post"]["responses"]


def test_the_answers_schema_accepts_every_persona_and_refuses_what_the_api_refuses(bank):
    import jsonschema_rs

    from questionnaire.openapi import answers_schema

    validator = jsonschema_rs.Draft202012Validator(answers_schema(bank))
    for name, persona in PERSONAS.items():
        assert validator.is_valid(persona["answers"]), name
    persona = answers()
    assert not validator.is_valid({**persona, "throughput": "fast"})
    assert not validator.is_valid({**persona, "colour": "red"})
    assert not validator.is_valid({**persona, "routing": ["none", "selectors"]})
    missing = {k: v for k, v in persona.items() if k != "guarantee_owner"}
    assert persona["delivery_guarantee"] != "at_most_once"
    assert not validator.is_valid(missing)  # shown for this answer, so required
    assert validator.is_valid({**missing, "delivery_guarantee": "at_most_once"})


# -- forms and every other page -------------------------------------------------------


def test_a_nul_character_in_any_field_answers_400_before_the_database_sees_it(admin_client):
    # An admin search used to reach PostgreSQL with the NUL and fail there.
    response = admin_client.get("/admin/advisor/report/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    response = Client().post("/assessments/new/", {"title": "a\x00b"})
    assert response.status_code == 400
    assert not Assessment.objects.exists()


def test_a_form_body_over_django_s_limit_answers_413():
    response = Client().post("/assessments/new/", {"title": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_a_title_with_a_bidi_override_is_refused_with_the_reason(client):
    response = client.post("/assessments/new/", {"title": "Orders \u202egnp.exe"}, follow=True)
    assert not Assessment.objects.exists()
    page = response.content.decode()
    assert "The title contains the bidirectional control character U+202E" in page
