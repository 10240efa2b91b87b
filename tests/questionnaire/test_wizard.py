"""The wizard through the Django test client, as a browser without JavaScript uses it."""

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from advisor.engine.bank import default_bank
from advisor.models import Report
from questionnaire.forms import NOT_A_QUESTION, NOT_IN_THIS_STEP, PLEASE_ANSWER
from questionnaire.models import Assessment
from questionnaire.services import ANSWER_TO_HIDDEN_QUESTION
from tests.conftest import load_personas

pytestmark = pytest.mark.django_db
PERSONAS = load_personas()


def start(client) -> Assessment:
    response = client.post(reverse("questionnaire:new"), {"title": "Order platform"})
    assert response.status_code == 302
    return Assessment.objects.get()


def step_url(assessment, section_id):
    return reverse("questionnaire:step", args=[assessment.pk, section_id])


def form_data(section_id, answers, action="next"):
    """What the browser posts for one step: every shown question of the section."""
    bank = default_bank()
    data = {"action": action}
    shown = [q for q in bank.in_section(section_id) if q.is_shown(answers)]
    data["step_questions"] = " ".join(q.id for q in shown)
    for question in shown:
        if question.id not in answers:
            continue
        value = answers[question.id]
        if question.kind == "yes_no":
            data[question.id] = "true" if value else "false"
        else:
            data[question.id] = value
    return data


def walk(client, assessment, answers):
    """Post every step with Next, as a person would; returns the last response."""
    response = None
    for section in default_bank().sections:
        response = client.post(step_url(assessment, section.id), form_data(section.id, answers))
    return response


def test_landing_page_says_what_the_app_decides(client):
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Message broker, event-streaming platform, or both?" in page
    assert "32 questions in 8 short steps" in page
    assert "Start the questionnaire" in page


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_personas_reach_their_verdict_through_the_web_flow(client, published_ruleset, name):
    persona = PERSONAS[name]
    assessment = start(client)
    response = walk(client, assessment, persona["answers"])
    report = Report.objects.get(assessment=assessment)
    assert response.status_code == 302 and response.url == reverse(
        "advisor:report", args=[report.pk]
    )
    assert report.recommendation in persona["expect"]
    page = client.get(response.url).content.decode()
    names = {
        "artemis": "A message broker",
        "kafka": "An event-streaming platform",
        "hybrid": "Both, each for its role",
    }
    assert f"<h1>{names[report.recommendation]}</h1>" in page


def test_each_step_moves_on_and_the_last_one_submits(client, published_ruleset):
    assessment = start(client)
    answers = PERSONAS["telemetry_lake"]["answers"]
    response = client.post(step_url(assessment, "workload"), form_data("workload", answers))
    assert response.url == step_url(assessment, "delivery")
    page = client.get(response.url).content.decode()
    assert "Step 2 of 8" in page and "4 of 24 questions answered" in page
    response = client.post(step_url(assessment, "delivery"), form_data("delivery", answers, "back"))
    assert response.url == step_url(assessment, "workload")


def test_next_with_an_unanswered_question_shows_the_error_beside_it(client, published_ruleset):
    assessment = start(client)
    data = form_data("workload", {"data_role": "events", "throughput": "lt_1k"})
    response = client.post(step_url(assessment, "workload"), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert page.count(PLEASE_ANSWER) == 2  # message_size and latency_target
    assert 'id="error-message_size"' in page
    assessment.refresh_from_db()
    assert assessment.answers == {"data_role": "events", "throughput": "lt_1k"}


def test_answers_are_saved_as_you_go_and_resume_where_you_left(client, published_ruleset):
    assessment = start(client)
    answers = PERSONAS["order_fulfilment_jms"]["answers"]
    client.post(step_url(assessment, "workload"), form_data("workload", answers))
    client.post(step_url(assessment, "delivery"), form_data("delivery", answers, "autosave"))
    response = client.get(reverse("questionnaire:resume", args=[assessment.pk]))
    assert response.url == step_url(assessment, "delivery")
    page = client.get(response.url).content.decode()
    assert (
        'value="exactly_once" id="delivery_guarantee-exactly_once"\n                    checked'
        in page
    )
    home = client.get("/").content.decode()
    assert "Order platform" in home and "9 of 24 answered" in home


def test_htmx_autosave_returns_the_step_partial_with_the_conditional_question(client):
    assessment = start(client)
    url = step_url(assessment, "delivery")
    response = client.post(
        url,
        {"action": "autosave", "delivery_guarantee": "at_most_once"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    # The step alone, led by its <title> (htmx sets the tab's title from it).
    title, wizard = page.strip().split("\n", 1)
    isolated = "\u2068Order platform\u2069"  # the architect's title in Unicode isolates
    assert title == f"<title>Delivery (step 2 of 8) · {isolated} · Messaging Advisor</title>"
    assert wizard.startswith('<div id="wizard"') and "<html" not in page
    assert "guarantee_owner" not in page
    response = client.post(
        url,
        {"action": "autosave", "delivery_guarantee": "exactly_once"},
        headers={"HX-Request": "true"},
    )
    assert "Who should enforce that guarantee?" in response.content.decode()
    assert "Saved" in response.content.decode()
    assert response["HX-Retarget"] == "#wizard"
    # An answer that shows or hides nothing updates only the status and the progress.
    response = client.post(
        url,
        {"action": "autosave", "delivery_guarantee": "exactly_once", "ordering": "none"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "HX-Retarget" not in response and "<fieldset" not in page
    assert 'id="save-status"' in page and ">Saved<" in page
    assert 'id="steps" aria-label="Steps" hx-swap-oob="true"' in page
    assert "2 of 24 questions answered" in page


def test_htmx_next_swaps_in_the_next_step_and_pushes_its_url(client, published_ruleset):
    assessment = start(client)
    answers = PERSONAS["telemetry_lake"]["answers"]
    response = client.post(
        step_url(assessment, "workload"),
        form_data("workload", answers),
        headers={"HX-Request": "true"},
    )
    assert response["HX-Push-Url"] == step_url(assessment, "delivery")
    page = response.content.decode()
    # The new heading is marked to take focus after the swap; the tab's title names the step.
    assert '<h1 tabindex="-1" data-focus-after-swap>Delivery</h1>' in page
    assert page.lstrip().startswith("<title>Delivery (step 2 of 8)")
    # Never cached: Back in the browser asks again and shows what was saved since.
    assert "no-store" in response["Cache-Control"]


def test_a_step_with_a_missing_answer_marks_the_first_one_for_focus(client):
    assessment = start(client)
    response = client.post(
        step_url(assessment, "workload"),
        {"action": "next", "step_questions": "data_role throughput", "data_role": "commands"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert page.count("data-focus-after-swap") == 1
    assert 'id="q-throughput"\n                  tabindex="-1" data-focus-after-swap' in page


def test_a_stale_answer_is_dropped_when_its_question_disappears(client):
    assessment = start(client)
    url = step_url(assessment, "delivery")
    client.post(
        url,
        {"action": "autosave", "delivery_guarantee": "exactly_once", "guarantee_owner": "broker"},
    )
    # Without JavaScript the owner question is still on the page when the guarantee changes.
    response = client.post(
        url,
        {"action": "autosave", "delivery_guarantee": "at_most_once", "guarantee_owner": "broker"},
    )
    assert response.status_code == 200
    assessment.refresh_from_db()
    assert assessment.answers == {"delivery_guarantee": "at_most_once"}


@pytest.mark.parametrize(
    ("post", "field", "message"),
    [
        ({"colour": "blue"}, "colour", NOT_A_QUESTION.format(name="colour")),
        ({"throughput": "warp"}, "throughput", '"warp" is not allowed; allowed: "lt_1k"'),
        ({"replay": "forever"}, "replay", NOT_IN_THIS_STEP),
        ({"guarantee_owner": "broker"}, "guarantee_owner", ANSWER_TO_HIDDEN_QUESTION),
        ({"xa_transactions": "maybe"}, "xa_transactions", "answer yes or no"),
    ],
    ids=["unknown-question", "unknown-value", "other-step", "hidden-question", "not-yes-no"],
)
def test_tampered_posts_get_a_clear_message_and_lose_nothing(client, post, field, message):
    assessment = start(client)
    saved = {"delivery_guarantee": "at_most_once", "xa_transactions": False, "ordering": "none"}
    client.post(
        step_url(assessment, "delivery"),
        {"action": "autosave", **form_data("delivery", saved, "autosave")},
    )
    section = "workload" if field == "throughput" else "delivery"
    response = client.post(step_url(assessment, section), {"action": "next", **post})
    page = response.content.decode()
    assert response.status_code == 422
    assert "nothing you saved was lost" in page
    assert escape(message) in page
    assessment.refresh_from_db()
    assert assessment.answers == saved


def test_submitting_with_gaps_sends_you_to_the_first_gap(client, published_ruleset):
    assessment = start(client)
    answers = dict(PERSONAS["telemetry_lake"]["answers"])
    for section in default_bank().sections[1:]:
        client.post(step_url(assessment, section.id), form_data(section.id, answers))
    response = client.post(step_url(assessment, "team"), form_data("team", answers))
    assert response.url == step_url(assessment, "workload") + "?check=1"
    page = client.get(response.url).content.decode()
    assert PLEASE_ANSWER in page and "A few questions are still unanswered" in page
    assert not Report.objects.exists()


def test_someone_elses_assessment_is_not_found(client, django_user_model):
    assessment = start(client)
    from django.test import Client

    stranger = Client()
    assert stranger.get(step_url(assessment, "workload")).status_code == 404
    assert (
        stranger.post(step_url(assessment, "workload"), {"data_role": "events"}).status_code == 404
    )
    assessment.refresh_from_db()
    assert assessment.answers == {}


def test_the_report_page_explains_itself(client, published_ruleset):
    assessment = start(client)
    walk(client, assessment, PERSONAS["claims_and_fraud_analytics"]["answers"])
    report = Report.objects.get()
    page = client.get(reverse("advisor:report", args=[report.pk])).content.decode()
    assert "<h1>Both, each for its role</h1>" in page
    assert "Why both?" in page
    assert "One transaction across messaging and a database" in page
    assert f'href="{reverse("advisor:tradeoffs")}#T3"' in page
    assert "Caveat:" in page and "since 0.11 (2017)" in page
    assert "min.insync.replicas=2" in page and "_AMQ_DUPL_ID" in page
    assert 'data-plotly="dimension-chart"' in page and "vendor/plotly/plotly-basic.min.js" in page
    figure = json.loads(
        page.split('id="dimension-chart" type="application/json">')[1].split("</script>")[0]
    )
    assert {trace["name"] for trace in figure["data"]} == {"Broker (Artemis)", "Kafka"}
    assert all(trace["text"] for trace in figure["data"])
    assert "https://cdn" not in page


def test_the_tradeoffs_page_has_every_cited_claim(client):
    page = client.get(reverse("advisor:tradeoffs")).content.decode()
    for number in range(1, 9):
        assert f'id="T{number}"' in page
    for number in range(1, 14):
        assert f'id="M{number}"' in page
    # every claim links its source, and the article's refuted claims say so, with the
    # 2026 correction beside them
    blocks = page.split("<dt ")[1:]
    assert len(blocks) == 21
    assert all('class="cites">Sources: <a href="https://' in block for block in blocks)
    t6 = next(block for block in blocks if block.startswith('id="T6"'))
    assert "refuted in 2026: scores nothing" in t6 and 'href="#M11"' in t6
    assert "managed Artemis nowhere" in t6
    t2 = next(block for block in blocks if block.startswith('id="T2"'))
    assert "still holds" in t2 and "<blockquote" in t2


def test_editing_a_submitted_assessment_rescores_from_any_step(client, published_ruleset):
    assessment = start(client)
    answers = dict(PERSONAS["order_fulfilment_jms"]["answers"])
    first = walk(client, assessment, answers)
    page = client.get(step_url(assessment, "consumption")).content.decode()
    assert "Re-score now" in page
    answers.update(replay="forever", stream_processing=True)
    response = client.post(
        step_url(assessment, "consumption"), form_data("consumption", answers, "submit")
    )
    assert response.status_code == 302 and response.url != first.url
    newest = Report.objects.filter(assessment=assessment).order_by("-created_at").first()
    assert newest.recommendation == "hybrid"
    # the first report stays as it was for anyone it was shared with
    assert Report.objects.filter(assessment=assessment, recommendation="artemis").count() == 1


def test_every_reason_is_on_the_page_and_the_weaker_ones_fold(client, published_ruleset):
    assessment = start(client)
    walk(client, assessment, PERSONAS["order_fulfilment_jms"]["answers"])
    report = Report.objects.get()
    page = client.get(reverse("advisor:report", args=[report.pk])).content.decode()
    reasons = report.result["reasons"]
    assert page.count('id="rule-') == len(reasons)
    # refuted article claims have a section of their own, with their correction
    refuted = [r for r in reasons if r["refuted_by"]]
    assert refuted and page.count('<div class="reason refuted" id="rule-') == len(refuted)
    artemis = [r for r in reasons if r["favours"] == "artemis" and not r["refuted_by"]]
    folded = len(artemis) - 6
    assert f"{folded} more reasons worth fewer points" in page
    shown, hidden = page.split('<details class="more-reasons">')[0:2]
    assert f'id="rule-{artemis[5]["rule"]}"' in shown
    assert f'id="rule-{artemis[6]["rule"]}"' in hidden
