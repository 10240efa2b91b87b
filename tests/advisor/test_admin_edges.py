"""The admin under attack: bad ids, hostile files, session keys, sign-in throttling."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from advisor.admin.ruleset_views import impact_chart
from advisor.engine.rules import DEFAULT_RULES_PATH
from advisor.reports.models import Report
from advisor.rulesets import services as rulesets
from advisor.rulesets.models import RuleSet
from advisor.security import fingerprint
from tests.factories import PASSWORD, UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(admin=True, username="ada"))
    return client


def default_rules() -> dict:
    return json.loads(DEFAULT_RULES_PATH.read_text())


def with_first_rule(**changes) -> str:
    data = default_rules()
    data["rules"][0] = {**data["rules"][0], **changes}
    return json.dumps(data)


def deeply_nested_condition(depth: int) -> dict:
    condition = {"question": "xa_transactions", "equals": True}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            with_first_rule(when=deeply_nested_condition(600)),
            "nests arrays and objects deeper than 32 levels",
        ),
        (
            with_first_rule(weight=123456789).replace("123456789", "9" * 5000),
            "has a number 5000 characters long; at most 40 are allowed",
        ),
        (with_first_rule(weight=float("nan")), "has NaN, which is not a JSON number"),
        (with_first_rule(title="Broker\x00"), "rules[0].title: contains a NUL character"),
        (
            with_first_rule(rationale="Reads one way \u202e and another"),
            "rules[0].rationale: contains the bidirectional control character U+202E",
        ),
        (with_first_rule(title="x" * 201), "field 'title': is 201 characters long"),
        (with_first_rule(id="a" * 81), "at most 80 characters"),
        (
            json.dumps({**default_rules(), "version": "v" * 41}),
            "field 'version': is 41 characters long; at most 40 are allowed",
        ),
        (
            json.dumps({**default_rules(), "dimensions": [{"id": ["x"], "title": "X"}]}),
            "dimension #1, field 'id': expected a lower-case slug",
        ),
    ],
)
def test_a_hostile_rules_file_is_refused_with_a_clear_error(
    staff_client, published_ruleset, content, message
):
    upload = SimpleUploadedFile("bad.json", content.encode())
    response = staff_client.post(reverse("admin:advisor_ruleset_import"), {"file": upload})
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert RuleSet.objects.count() == 1


@pytest.mark.parametrize("view", ["impact", "export", "changes"])
@pytest.mark.parametrize("bad_id", ["abc", "1x", "99999999999999999999999999", "%00"])
def test_the_admin_s_own_views_never_fail_on_a_bad_id(
    staff_client, published_ruleset, view, bad_id
):
    response = staff_client.get(f"/admin/advisor/ruleset/{bad_id}/{view}/")
    assert response.status_code in {302, 400, 404}


def test_a_huge_numeric_id_is_a_404(staff_client, published_ruleset):
    url = reverse("admin:advisor_ruleset_impact", args=[10**25])
    assert staff_client.get(url).status_code == 404


def test_the_admin_never_shows_a_session_key(staff_client, published_ruleset):
    visitor = Client()
    visitor.get("/")
    session = visitor.session
    session.save()
    key = session.session_key
    assessment, report = submitted_assessment("telemetry_lake")
    report.owner_session = fingerprint(key)
    report.save(update_fields=["owner_session"])
    page = staff_client.get(f"/admin/advisor/report/{report.pk}/change/").content.decode()
    assert key not in page and fingerprint(key) not in page
    assert "owner_session" not in page and "Owner session" not in page


def test_the_impact_page_never_makes_a_visitor_s_markup_a_link(client, published_ruleset):
    admin = UserFactory(admin=True)
    submitted_assessment("telemetry_lake", title='<a href="https://evil.example">click</a>')
    draft = rulesets.ruleset_new_draft(user=admin)
    impact = rulesets.ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())

    # The chart counts assessments by shift: it carries no visitor's text at all.
    assert "evil.example" not in json.dumps(impact_chart(impact))
    client.force_login(admin)
    page = client.get(reverse("admin:advisor_ruleset_impact", args=[draft.pk]))
    assert page.status_code == 200
    assert 'href="https://evil.example"' not in page.content.decode()


def test_a_staff_session_ends_after_a_working_day_not_ninety_days(client, settings):
    UserFactory(admin=True, username="grace")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "grace", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session.get_expiry_age() == settings.ADMIN_SESSION_AGE
    assert timedelta(days=1).total_seconds() > settings.ADMIN_SESSION_AGE


def test_admin_sign_in_is_throttled_per_address_and_per_username(client, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "admin_login": ["3/m"],
        "admin_login_username": ["5/h"],
    }
    UserFactory(admin=True, username="grace")
    for _ in range(3):
        wrong = client.post("/admin/login/", {"username": "grace", "password": "guess"})
        assert wrong.status_code == 200  # the login form again, with its error
    limited = client.post("/admin/login/", {"username": "grace", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "Too many requests" in limited.content.decode()
    # From elsewhere, the same username is limited once it has had its share.
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    elsewhere.post("/admin/login/", {"username": "grace", "password": "guess"})
    last = elsewhere.post("/admin/login/", {"username": "grace", "password": "guess"})
    assert last.status_code == 429


def test_a_draft_s_notes_get_the_same_text_check(staff_client, published_ruleset):
    admin = UserFactory(admin=True)
    draft = rulesets.ruleset_new_draft(user=admin)
    url = reverse("admin:advisor_ruleset_change", args=[draft.pk])
    response = staff_client.post(
        url, {"close_call_margin": "10", "notes": "Tuned \u202e for the board"}
    )
    assert response.status_code == 200
    assert "contains the bidirectional control character U+202E" in response.content.decode()
    draft.refresh_from_db()
    assert "\u202e" not in draft.notes
