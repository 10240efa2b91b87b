"""The first five minutes (issue 13), at desktop (1440x900) and phone (390x844) width.

Every page a new user meets: no template syntax in its text, no axe-core violation, no
sideways scrolling, and a screenshot under test-artifacts/ to look at. Then the moments
that used to lose people: Next, Back, and queueing demos.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from advisor.demoruns.models import DemoRun
from advisor.reports.sharing import share_link_create
from advisor.rulesets.models import Rule
from advisor.rulesets.services import ruleset_new_draft, ruleset_publish
from tests.browser.conftest import ARTIFACTS, CHART_WAIT_MS, VIEWPORTS
from tests.browser.pages import check_page, own, screenshot
from tests.browser.test_questionnaire import answer_step
from tests.conftest import load_personas
from tests.factories import UserFactory, submitted_assessment

PERSONA = "claims_and_fraud_analytics"
LONG_TITLE = "Ü" * 200  # unbroken: must wrap, not widen the page
ORDER_PLATFORM = "\u2068Order platform\u2069"  # the assessment's title, in Unicode isolates
# Right-to-left text must not reorder our own text after it. (An override character,
# U+202E, is refused outright: advisor.engine.textinput.)
RTL_TITLE = "\u05e2\u05e1\u05e7\u05d0\u05d5\u05ea 42"
RTL_OVERRIDE_TITLE = "\u202eevil title"

# A small real run of one scenario, for the demo-run page (a few seconds).
SMALL_DURABILITY = {"messages": 4000, "seed": 7}  # default rate and flush: a few teeth


@pytest.fixture(scope="module")
def durability_document(tmp_path_factory):
    from advisor.demos.drivers import run_scenario

    return run_scenario("durability", SMALL_DURABILITY, workdir=tmp_path_factory.mktemp("d"))


def in_view_and_focused(page, selector: str) -> dict:
    return page.evaluate(
        """selector => {
          const element = document.querySelector(selector);
          const box = element.getBoundingClientRect();
          return {
            focused: document.activeElement === element,
            inView: box.top >= -1 && box.top < window.innerHeight,
            text: element.innerText,
          };
        }""",
        selector,
    )


def print_report(page) -> None:
    """Print the report on A4: no controls or forms; prints the page count, keeps the PDF."""
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    for hidden in ("#demo-queue", ".report-actions", "#share", ".site-header nav"):
        expect(page.locator(hidden)).to_be_hidden()
    screenshot(page, "report-print")
    pdf = page.pdf(format="A4", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    print(f"\nThe report prints on {pages} A4 pages (test-artifacts/report.pdf)")
    page.emulate_media(media="screen")
    page.set_viewport_size(VIEWPORTS["desktop"])


def start(page, title="Order platform"):
    page.goto(page.base_url + "/")
    page.fill("#title", title)
    page.click("text=Start the questionnaire")
    expect(page.locator("h1")).to_have_text("Workload")


# --- the pages --------------------------------------------------------------------------


def test_landing_page_and_a_wizard_step(sized_page):
    page = sized_page
    page.goto(page.base_url + "/")
    check_page(page, "landing")
    start(page, title=LONG_TITLE)
    check_page(page, "wizard-step")
    page.goto(page.base_url + "/")
    # The long title wraps inside the page (check_page: no sideways scrolling).
    check_page(page, "landing-with-long-title")


def test_a_right_to_left_override_in_a_title_is_refused_with_the_reason(sized_page):
    page = sized_page
    page.goto(page.base_url + "/")
    page.fill("#title", RTL_OVERRIDE_TITLE)
    page.click("text=Start the questionnaire")
    expect(page.locator(".messages")).to_contain_text(
        "The title contains the bidirectional control character U+202E"
    )
    expect(page.locator(".assessment-list")).to_have_count(0)


def test_right_to_left_text_in_a_title_stays_inside_it(sized_page):
    page = sized_page
    start(page, title=RTL_TITLE)
    page.goto(page.base_url + "/")
    # Our own text after the title still reads left to right, after it: the override ends
    # with the title (<bdi>) instead of mirroring the rest of the line.
    order = page.evaluate(
        """() => {
          const item = document.querySelector(".assessment-list li");
          const title = item.querySelector("bdi").getBoundingClientRect();
          const text = item.querySelector(".muted").firstChild;
          const range = document.createRange();
          range.setStart(text, 0);
          range.setEnd(text, 2);
          const first = range.getBoundingClientRect();
          return {afterOnSameLine: first.left >= title.right - 1 && first.top < title.bottom,
                  onLaterLine: first.top >= title.bottom - 1};
        }"""
    )
    assert order["afterOnSameLine"] or order["onLaterLine"], order


def test_report_shared_report_and_compare_pages(sized_page):
    page = sized_page
    admin = UserFactory(admin=True, username="ada")
    assessment, report = submitted_assessment(PERSONA, title=LONG_TITLE)
    share_link_create(report=report, label="For the architecture board")
    _, token = share_link_create(report=report, label="")
    own(page, assessment)

    page.goto(f"{page.base_url}/reports/{report.pk}/")
    expect(page.locator("[data-plotly] .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    # The basic plotly.js bundle draws the bars with their text labels.
    # (A number, not a value: the scores move when an administrator re-weighs the rules.)
    a_number = re.compile(r"^\d+(\.\d)?$")
    expect(page.locator("[data-plotly] text.bartext").first).to_have_text(a_number)
    check_page(page, "report")
    # On a phone every share link keeps its Revoke button in view.
    revoke = page.locator(".links button", has_text="Revoke").first
    revoke.scroll_into_view_if_needed()
    box = revoke.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    if page.width_name == "desktop":
        print_report(page)

    page.goto(f"{page.base_url}/s/{token}/")
    expect(page.locator("[data-plotly] .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    check_page(page, "shared-report")

    # New rules that move the points: the compare page.
    draft = ruleset_new_draft(user=admin)
    draft.rules.filter(rule_id="xa-needs-broker").update(weight=0)
    draft.rules.filter(rule_id="kafka-api-clients").update(weight=10)
    ruleset_publish(ruleset=draft, user=admin)
    page.goto(f"{page.base_url}/reports/{report.pk}/rescore/")
    expect(page.locator("h1")).to_have_text("The same answers, scored with the current rules")
    check_page(page, "compare")


def test_demo_run_page(sized_page, durability_document):
    page = sized_page
    assessment, report = submitted_assessment(PERSONA)
    run = DemoRun.objects.create(
        assessment=assessment,
        scenario="durability",
        parameters=durability_document["parameters"],
        status=DemoRun.Status.SUCCEEDED,
        progress=1.0,
        metrics=durability_document,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        attempts=1,
    )
    own(page, assessment)
    page.goto(f"{page.base_url}/demos/{run.pk}/")
    expect(page.locator("[data-plotly] .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    check_page(page, "demo-run")
    page.goto(f"{page.base_url}/reports/{report.pk}/#demo-runs")
    demo_chart = page.locator("#demo-runs [data-plotly] .main-svg").first
    expect(demo_chart).to_be_visible(timeout=CHART_WAIT_MS)
    check_page(page, "report-with-demo-run")


def test_not_found_page(sized_page):
    page = sized_page
    response = page.goto(f"{page.base_url}/s/no-such-token/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("This page does not exist")
    check_page(page, "not-found")


def test_the_admins_pages(sized_page):
    page = sized_page
    UserFactory(admin=True, username="ada")
    for persona in ("order_fulfilment_jms", "telemetry_lake", PERSONA):
        # At most 200 characters: a longer title is refused (advisor.engine.textinput).
        submitted_assessment(persona, title=f"{persona.replace('_', ' ')} {LONG_TITLE}"[:200])
    page.goto(page.base_url + "/admin/")
    check_page(page, "admin-login")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "a-long-test-password-nobody-uses")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("ada")

    page.goto(page.base_url + "/admin/advisor/ruleset/")
    check_page(page, "admin-rulesets")
    page.click("text=New draft")
    # A new draft opens its rules list, to edit the weights.
    expect(page.locator(".ruleset-banner")).to_contain_text("Draft v2")
    check_page(page, "admin-rules")
    draft = page.url.rsplit("=", 1)[1]
    rulesets = f"{page.base_url}/admin/advisor/ruleset/{draft}"
    page.goto(f"{rulesets}/change/")
    check_page(page, "admin-draft")
    # Weights that move every verdict a little and change one.
    Rule.objects.filter(ruleset_id=draft, rule_id="xa-needs-broker").update(weight=0)
    Rule.objects.filter(ruleset_id=draft, rule_id="kafka-api-clients").update(weight=10)
    page.goto(f"{rulesets}/impact/")
    expect(page.locator("#impact-summary")).to_be_visible()
    check_page(page, "admin-impact")
    page.goto(f"{rulesets}/changes/")
    check_page(page, "admin-changes")
    page.goto(page.base_url + "/admin/advisor/ruleset/import/")
    check_page(page, "admin-import")


# --- the moments that lost people -------------------------------------------------------


def test_after_next_the_new_heading_is_in_view_focused_and_named_in_the_title(sized_page):
    page = sized_page
    start(page)
    answers = load_personas()[PERSONA]["answers"]
    answer_step(page, answers)
    page.locator("button[value=next]").click()
    expect(page.locator("h1")).to_have_text("Delivery")
    expect(page.locator("h1")).to_be_focused()
    state = in_view_and_focused(page, "h1")
    assert state == {"focused": True, "inView": True, "text": "Delivery"}
    expect(page).to_have_title(f"Delivery (step 2 of 8) · {ORDER_PLATFORM} · Messaging Advisor")
    screenshot(page, "wizard-after-next", full_page=False)

    # Back in the browser shows the answers saved on the first step, not a stale copy.
    page.go_back()
    expect(page.locator("h1")).to_have_text("Workload")
    for question in ("data_role", "throughput"):
        value = answers[question]
        value = value[0] if isinstance(value, list) else value
        expect(page.locator(f"#{question}-{value}")).to_be_checked()
    expect(page).to_have_title(f"Workload (step 1 of 8) · {ORDER_PLATFORM} · Messaging Advisor")


def test_an_unanswered_question_after_next_takes_the_focus(sized_page):
    page = sized_page
    start(page)
    page.locator("#data_role-commands").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.locator("button[value=next]").click()
    expect(page.locator("#error-throughput")).to_have_text("Please choose an answer.")
    expect(page.locator("#q-throughput")).to_be_focused()
    assert in_view_and_focused(page, "#q-throughput")["inView"]


def test_queueing_demos_shows_a_focused_confirmation_where_the_button_was(sized_page):
    page = sized_page
    assessment, report = submitted_assessment(PERSONA)
    own(page, assessment)
    page.goto(f"{page.base_url}/reports/{report.pk}/")
    page.locator("input[name=replay-chosen]").check()
    page.locator("input[name=durability-chosen]").check()
    with mock.patch("advisor.demoruns.services.queue_execution"):
        page.click("text=Queue the chosen demos")
        notice = page.locator(".queued-notice")
        expect(notice).to_contain_text("Queued 2 demo runs")
    expect(notice).to_be_focused()
    assert in_view_and_focused(page, ".queued-notice")["inView"]
    screenshot(page, "demo-queued", full_page=False)
    assert DemoRun.objects.filter(assessment=assessment).count() == 2
