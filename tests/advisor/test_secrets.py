"""Secrets out of sight: session keys hashed in the database, share tokens out of the logs."""

import io
import logging

import pytest
from django.test import Client

from advisor.reports.models import Report
from advisor.reports.sharing import share_link_create
from advisor.security import fingerprint, redact_share_tokens
from tests.factories import submitted_assessment


def test_a_fingerprint_is_keyed_stable_and_not_the_key(settings):
    key = "k" * 32
    first = fingerprint(key)
    assert first == fingerprint(key) != key
    assert len(first) == 64
    assert fingerprint("") == "" and fingerprint(None) == ""
    settings.SECRET_KEY = "another-secret-key-another-secret-key-another"
    assert fingerprint(key) != first  # keyed: without SECRET_KEY it cannot be recomputed


@pytest.mark.django_db
def test_a_report_stores_a_keyed_hash_of_its_owner_s_session(client, published_ruleset):
    from advisor.reports.services import report_create

    client.get("/")
    session = client.session
    session.save()
    assessment, _ = submitted_assessment("telemetry_lake")
    report = report_create(
        assessment=assessment, answers=assessment.answers, owner_session=session.session_key
    )
    stored = Report.objects.get(pk=report.pk).owner_session
    assert stored == fingerprint(session.session_key)
    assert session.session_key not in stored
    assert Report.objects.for_sessions([session.session_key]).get() == report


def test_share_tokens_are_cut_to_their_hint_in_any_text():
    token = "AbCdEf" + "x" * 26
    assert redact_share_tokens(f"Not Found: /s/{token}/report.json") == (
        "Not Found: /s/AbCdEf…/report.json"
    )
    assert redact_share_tokens("GET /static/css/app.css") == "GET /static/css/app.css"


@pytest.mark.django_db
def test_a_not_found_share_link_is_logged_without_its_token(published_ruleset):
    _, report = submitted_assessment("telemetry_lake")
    link, token = share_link_create(report=report)
    from advisor.reports.sharing import share_link_revoke

    share_link_revoke(link=link)
    handler = logging.getLogger("django").handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = Client().get(f"/s/{token}/")
    finally:
        handler.setStream(previous)
    assert response.status_code == 404
    logged = stream.getvalue()
    assert "Not Found: /s/" in logged
    assert token not in logged
    assert f"/s/{token[:6]}…/" in logged


@pytest.mark.django_db
def test_owner_exports_and_pages_are_never_cached(client, published_ruleset):
    from django.urls import reverse

    from advisor.ownership import SESSION_ASSESSMENTS

    assessment, report = submitted_assessment("telemetry_lake")
    session = client.session
    session[SESSION_ASSESSMENTS] = [str(assessment.pk)]
    session.save()
    for name in ("report", "report_json", "report_adr", "report_rescore"):
        response = client.get(reverse(f"advisor:{name}", args=[report.pk]))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
