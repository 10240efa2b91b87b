"""What a report page costs to load, as production serves it: whitenoise, gzip, hashed names.

collectstatic runs with the production storage into a temporary directory, whitenoise serves
it, and every file the report page loads is fetched with `Accept-Encoding: gzip`. Prints the
figure; the budget is 700 KB in all (it was about 4.9 MB with the full plotly.js).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from advisor.ownership import SESSION_ASSESSMENTS
from tests.factories import submitted_assessment

BUDGET = 700 * 1024
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # git-ignored
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


@pytest.fixture
def production_static(settings, tmp_path):
    """Static files collected and compressed as in production, served by whitenoise."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.MIDDLEWARE = [
        settings.MIDDLEWARE[0],
        "whitenoise.middleware.WhiteNoiseMiddleware",
        *settings.MIDDLEWARE[1:],
    ]
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_a_report_page_transfers_at_most_700_kb_with_compression(production_static, db):
    from advisor.rulesets.services import ruleset_load_default

    ruleset_load_default()
    assessment, report = submitted_assessment("claims_and_fraud_analytics")
    client = Client()
    session = client.session
    session[SESSION_ASSESSMENTS] = [str(assessment.pk)]
    session.save()

    page = client.get(f"/reports/{report.pk}/", headers={"accept-encoding": "gzip, br"})
    assert page.status_code == 200
    html = page.content
    assets = sorted(set(ASSET.findall(html.decode())))
    assert any("plotly-basic" in url for url in assets), assets
    sizes = {}
    for url in assets:
        response = client.get(url, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content)
        if url.endswith((".js", ".css", ".svg")):
            assert response.get("Content-Encoding") == "gzip", f"{url} is sent uncompressed"
        sizes[url] = len(body)
    total = len(html) + sum(sizes.values())
    lines = [f"  {size / 1024:7.1f} KB  {url}" for url, size in sizes.items()]
    figure = (
        f"Report page transfer with compression: {total / 1024:.1f} KB in all"
        f" (HTML {len(html) / 1024:.1f} KB uncompressed)\n" + "\n".join(lines) + "\n"
    )
    print("\n" + figure)  # shown with pytest -s; also kept in test-artifacts/
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-transfer.txt").write_text(figure, encoding="utf-8")
    assert total <= BUDGET, f"{total / 1024:.1f} KB is over the 700 KB budget"
