"""The questionnaire in a real browser: htmx on, as an architect uses it."""

import re

from playwright.sync_api import expect

from advisor.engine.bank import default_bank
from tests.browser.conftest import CHART_WAIT_MS
from tests.conftest import load_personas

PERSONAS = load_personas()


def answer_step(page, answers):
    """Tick the persona's answers for every question on the current step."""
    done = set()
    while True:
        ids = [f.get_attribute("id")[2:] for f in page.locator("fieldset.question").all()]
        todo = [question_id for question_id in ids if question_id not in done]
        if not todo:
            return
        question_id = todo[0]
        done.add(question_id)
        if question_id not in answers:
            continue  # an optional question the persona leaves at its neutral default
        value = answers[question_id]
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                item = "true" if item else "false"
            box = page.locator(f"#{question_id}-{item}")
            if not box.is_checked():
                box.check()
                expect(page.locator("#save-status")).to_have_text("Saved")
        if question_id == "routing" and "none" not in values:
            none = page.locator("#routing-none")
            if none.is_checked():
                none.uncheck()


def start(page, title="Browser walk"):
    page.goto(page.base_url + "/")
    page.fill("#title", title)
    page.click("text=Start the questionnaire")
    expect(page.locator("h1")).to_have_text("Workload")


def test_full_walk_from_landing_page_to_recommendation(page):
    start(page)
    persona = PERSONAS["claims_and_fraud_analytics"]
    sections = default_bank().sections
    for number, section in enumerate(sections, start=1):
        expect(page.locator("h1")).to_have_text(section.title)
        expect(page.locator(".step-count")).to_contain_text(f"Step {number} of {len(sections)}")
        answer_step(page, persona["answers"])
        page.locator("button[value=next]").click()
    expect(page.locator(".verdict h1")).to_have_text("Both, each for its role")
    expect(page).to_have_url(re.compile(r"/reports/[0-9a-f-]+/$"))
    # Plotly drew both charts from the locally served plotly.js.
    # A bound, not a speed check: plotly.js takes seconds to parse on a loaded machine.
    expect(page.locator("[data-plotly] .main-svg").first).to_be_visible(timeout=CHART_WAIT_MS)
    assert page.locator("[data-plotly]").evaluate_all("els => els.every(e => e.dataset.drawn)")
    expect(page.locator("#rule-xa-needs-broker")).to_contain_text("T3 Exactly-once")


def test_resume_after_reload_keeps_every_answer(page):
    start(page)
    page.locator("#data_role-events").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.locator("#throughput-gt_1m").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    expect(page.locator(".step-count")).to_contain_text("2 of 24 questions answered")
    page.reload()
    expect(page.locator("#data_role-events")).to_be_checked()
    expect(page.locator("#throughput-gt_1m")).to_be_checked()
    # Closing the tab and coming back from the landing page resumes the same assessment.
    page.goto(page.base_url + "/")
    page.click("text=Browser walk")
    expect(page.locator("h1")).to_have_text("Workload")
    expect(page.locator("#throughput-gt_1m")).to_be_checked()


def test_a_conditional_question_appears_and_disappears(page):
    start(page)
    page.locator("text=2. Delivery").click()
    expect(page.locator("h1")).to_have_text("Delivery")
    owner = page.locator("#q-guarantee_owner")
    page.locator("#delivery_guarantee-at_most_once").check()
    expect(owner).to_have_count(0)
    page.locator("#delivery_guarantee-exactly_once").check()
    expect(owner).to_be_visible()
    expect(owner.locator("legend")).to_have_text("Who should enforce that guarantee?")
    page.locator("#guarantee_owner-broker").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.locator("#delivery_guarantee-at_most_once").check()
    expect(owner).to_have_count(0)


def test_an_unanswered_question_gets_an_inline_error(page):
    start(page)
    page.locator("#data_role-commands").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.locator("button[value=next]").click()
    error = page.locator("#error-throughput")
    expect(error).to_have_text("Please choose an answer.")
    expect(page.locator("#q-throughput")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("h1")).to_have_text("Workload")
    expect(page.locator("#data_role-commands")).to_be_checked()
