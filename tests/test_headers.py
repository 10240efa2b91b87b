"""Every page sends the Content-Security-Policy and Permissions-Policy, the admin included."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def pages(client, published_ruleset):
    """One URL of each kind of page, fetched by a visitor who owns a report."""
    from advisor.ownership import SESSION_ASSESSMENTS

    assessment, report = submitted_assessment("telemetry_lake")
    session = client.session
    session[SESSION_ASSESSMENTS] = [str(assessment.pk)]
    session.save()
    return [
        "/",
        reverse("advisor:tradeoffs"),
        reverse("advisor:report", args=[report.pk]),
        reverse("advisor:report_json", args=[report.pk]),
        f"/assessments/{assessment.pk}/workload/",
        "/api/v1/openapi.json",
        "/no-such-page/",
        "/admin/login/",
    ]


def test_every_page_sends_a_strict_csp_and_a_permissions_policy(client, pages):
    for url in pages:
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        csp = directives(response)
        assert csp["script-src"] == ["'self'"], url
        assert csp["style-src"] == ["'self'"], url
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], url
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], url
        permissions = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in permissions, (url, permissions)


def test_the_admin_pages_send_them_too(client, published_ruleset):
    client.force_login(UserFactory(admin=True))
    for url in ("/admin/", "/admin/advisor/ruleset/", "/admin/advisor/rule/?ruleset__id__exact=1"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert directives(response)["script-src"] == ["'self'"], url
        assert "camera=()" in response["Permissions-Policy"], url


def test_no_template_has_an_inline_script_handler_or_style():
    """What the CSP would block, kept out at the source (the browser tests catch the rest)."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    offending = re.compile(
        r"<script>|<script\s+(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")|\son[a-z]+=|\sstyle=\"|<style\b|javascript:"
    )
    found = [
        f"{path.relative_to(templates)}:{number}: {line.strip()[:80]}"
        for path in templates.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if offending.search(line)
    ]
    assert not found, "\n".join(found)
