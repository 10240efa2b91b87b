"""Pages the questionnaire walk does not reach, in the browser under the strict CSP.

The `page` fixture fails a test on any CSP violation Chromium reports; here the admin
(sign-in, rule list, the impact preview and its chart), a finished demo run with its
charts, and the 429 page. tests/browser/test_plotly_css.py keeps plotly.css true.
"""

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from playwright.sync_api import expect

from advisor.demoruns.models import DemoRun
from advisor.demos.drivers import run_scenario
from advisor.ownership import SESSION_ASSESSMENTS
from advisor.rulesets import services as rulesets
from tests.browser.conftest import CHART_WAIT_MS
from tests.factories import PASSWORD, UserFactory, submitted_assessment

SMALL_REPLAY = {"messages": 50, "consumed_percent": 100, "late_consumers": 2}


def sign_in(page, username):
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_the_admin_and_its_impact_chart_run_under_the_csp(page):
    admin = UserFactory(admin=True, username="ada")
    submitted_assessment("telemetry_lake", title='<b>bold</b> & <a href="x">link</a>')
    draft = rulesets.ruleset_new_draft(user=admin)

    sign_in(page, "ada")
    page.goto(page.base_url + "/admin/advisor/ruleset/")
    expect(page.locator("#result_list")).to_be_visible()
    page.goto(page.base_url + f"/admin/advisor/rule/?ruleset__id__exact={draft.pk}")
    expect(page.locator(".ruleset-banner")).to_contain_text(f"Draft {draft.version}")
    # The preview scores every submitted assessment: on a busy machine it takes a while.
    page.goto(page.base_url + f"/admin/advisor/ruleset/{draft.pk}/impact/", timeout=CHART_WAIT_MS)
    expect(page.locator("#impact-chart .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    # The chart carries no visitor text (the tables name the assessments), so no title
    # can become a link or markup in it.
    expect(page.locator("#impact-chart")).not_to_contain_text("link")
    assert page.locator("#impact-chart a").count() == 0


def test_a_finished_demo_run_draws_its_charts_under_the_csp(page, tmp_path):
    assessment, report = submitted_assessment("telemetry_lake")
    metrics = run_scenario("replay", SMALL_REPLAY, workdir=tmp_path)
    run = DemoRun.objects.create(
        assessment=assessment,
        scenario="replay",
        parameters=metrics["parameters"],
        status=DemoRun.Status.SUCCEEDED,
        progress=1.0,
        metrics=metrics,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        attempts=1,
    )
    # The visitor's session owns the assessment, as after the wizard.
    store = SessionStore()
    store[SESSION_ASSESSMENTS] = [str(assessment.pk)]
    store.create()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": page.base_url}]
    )

    page.goto(page.base_url + f"/demos/{run.pk}/")
    expect(page.locator("[data-plotly] .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    page.goto(page.base_url + f"/reports/{report.pk}/")
    expect(page.locator(f"#run-{run.pk}")).to_be_visible()


def test_the_429_page_is_plain_and_clean(page, settings):  # noqa: F811 (the fixture)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "assessment_new": ["1/m"]}
    page.goto(page.base_url + "/")
    page.fill("#title", "first")
    page.click("text=Start the questionnaire")
    expect(page.locator("h1")).to_have_text("Workload")
    page.goto(page.base_url + "/")
    page.fill("#title", "second")
    page.click("text=Start the questionnaire")
    expect(page.locator("h1")).to_have_text("Please wait a moment")
    expect(page.locator(".alert")).to_contain_text("at most 1 per minute")
