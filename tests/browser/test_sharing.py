"""A shared report opens in a fresh browser, with no session, as its owner sees it."""

from playwright.sync_api import expect

from advisor.reports.sharing import share_link_create
from questionnaire.services import assessment_create, assessment_submit
from tests.browser.conftest import CHART_WAIT_MS, watch_csp
from tests.conftest import load_personas


def test_a_share_link_opens_in_a_fresh_browser_with_the_same_verdict_and_charts(page, browser):
    assessment = assessment_create(title="Claims")
    assessment.answers = load_personas()["claims_and_fraud_analytics"]["answers"]
    assessment.save()
    report = assessment_submit(assessment=assessment)
    _, token = share_link_create(report=report)

    fresh = browser.new_context()  # no cookies, no session
    shared = fresh.new_page()
    watch_csp(shared, page.violations)
    requests = []
    shared.on("request", lambda request: requests.append(request.url))
    response = shared.goto(f"{page.base_url}/s/{token}/")
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(shared.locator(".verdict h1")).to_have_text("Both, each for its role")
    expect(shared.locator(".scorebar")).to_contain_text(
        f"Broker {report.result['scores']['artemis']}"
    )
    expect(shared.locator("[data-plotly] .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    expect(shared.locator("#share")).to_have_count(0)
    assert all(url.startswith(page.base_url) for url in requests), requests
    assert fresh.cookies() == []
    fresh.close()
