"""Demo-run pages: queue from the recommendation, poll a run, charts, read-only sections."""

import json
import re
from unittest import mock

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from advisor.demoruns.forms import CHOOSE_ONE
from advisor.demoruns.presentation import demo_runs_export, demo_section_context, run_charts
from advisor.demoruns.services import (
    FAILED_WORKER_LOST,
    LIMIT_RETRY_AFTER,
    QUEUE_FULL,
    QUEUE_UNAVAILABLE,
    TOO_MANY_CHOSEN,
    TOO_MANY_RUNS,
)
from advisor.demos.drivers import run_scenario
from advisor.models import DemoRun
from advisor.ownership import SESSION_ASSESSMENTS
from advisor.security import fingerprint
from tests.factories import submitted_assessment

pytestmark = pytest.mark.django_db
Status = DemoRun.Status

SMALL = {
    "durability": {"messages": 300, "target_rate": 0, "flush_interval_ms": 10_000, "seed": 7},
    "exactly_once": {"messages": 30, "kills": 2, "seed": 3},
    "push_pull": {"messages": 100, "target_rate": 1000, "broker_buffer": 20, "prefetch": 5},
    "clustering": {"nodes": 3, "messages": 40, "throughput_messages": 200},
    "replay": {"messages": 50, "consumed_percent": 100, "late_consumers": 2},
}


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """One small real run of each scenario, for the pages that show finished runs."""
    return {
        name: run_scenario(name, parameters, workdir=tmp_path_factory.mktemp(name))
        for name, parameters in SMALL.items()
    }


@pytest.fixture
def owned(client, published_ruleset):
    """(assessment, report) whose assessment this test client's session owns."""
    assessment, report = submitted_assessment("telemetry_lake")
    session = client.session
    session[SESSION_ASSESSMENTS] = [str(assessment.pk)]
    session.save()
    return assessment, report


def succeeded(assessment, document, **fields) -> DemoRun:
    return DemoRun.objects.create(
        assessment=assessment,
        scenario=document["scenario"],
        parameters=document["parameters"],
        status=Status.SUCCEEDED,
        progress=1.0,
        metrics=document,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        attempts=1,
        **fields,
    )


def queue_url(report) -> str:
    return reverse("demos:queue", args=[report.pk])


def run_url(run) -> str:
    return reverse("demos:run", args=[run.pk])


def json_islands(html: str) -> dict:
    found = re.findall(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    return {island: json.loads(text) for island, text in found}


# --- queueing from the recommendation ----------------------------------------------------


def test_the_recommendation_offers_each_scenario_prefilled_from_the_answers(client, owned):
    _, report = owned

    page = client.get(reverse("advisor:report", args=[report.pk])).content.decode()

    assert 'id="demo-runs"' in page
    for scenario in SMALL:
        assert f'name="{scenario}-chosen"' in page
    # telemetry_lake: many consumer groups -> 5 late consumers; a cluster -> 3 nodes.
    assert re.search(r'name="replay-late_consumers"[^>]*value="5"', page)
    assert re.search(r'name="clustering-nodes"[^>]*value="3"', page)
    assert re.search(r'name="durability-message_size"[^>]*min="16"[^>]*max="1048576"', page)
    assert f'hx-post="{queue_url(report)}"' in page
    assert f'action="{queue_url(report)}"' in page


def test_queueing_without_javascript_redirects_back_and_queues_the_task_on_commit(
    client, owned, django_capture_on_commit_callbacks
):
    assessment, report = owned

    with (
        mock.patch("advisor.demoruns.services.queue_execution") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            queue_url(report),
            {"replay-chosen": "on", "replay-messages": "40", "durability-chosen": "on"},
        )

    assert response.status_code == 302
    assert response["Location"].endswith(f"/reports/{report.pk}/#demo-runs")
    runs = {run.scenario: run for run in assessment.demo_runs.all()}
    assert set(runs) == {"replay", "durability"}
    assert runs["replay"].parameters["messages"] == 40
    assert runs["replay"].parameters["late_consumers"] == 5  # prefilled value kept by default
    # Stored as keyed hashes: the session key is a credential, the address personal data.
    assert runs["replay"].owner_session == fingerprint(client.session.session_key)
    assert runs["replay"].owner_client == fingerprint("127.0.0.1")
    assert sorted(call.args[0] for call in delay.call_args_list) == sorted(
        str(run.pk) for run in runs.values()
    )
    page = client.get(response["Location"]).content.decode()
    assert "Queued 2 demo runs" in page
    assert page.count('hx-trigger="every 1s"') == 2


def test_a_parameter_out_of_bounds_is_shown_inline_naming_the_field(client, owned):
    assessment, report = owned

    response = client.post(
        queue_url(report), {"durability-chosen": "on", "durability-message_size": "2"}
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "message_size: must be between 16 and 1048576 bytes, got 2" in page
    assert 'value="2"' in page  # what was typed is kept
    assert not assessment.demo_runs.exists()


def test_a_limit_that_depends_on_other_parameters_is_shown_on_its_field(client, owned):
    _, report = owned

    response = client.post(
        queue_url(report),
        {
            "replay-chosen": "on",
            "replay-message_size": "65536",
            "replay-messages": "100000",
        },
    )

    assert response.status_code == 422
    assert "messages: must be at most 4096 with message_size 65536" in response.content.decode()


def test_choosing_nothing_says_so(client, owned):
    _, report = owned

    response = client.post(queue_url(report), {})

    assert response.status_code == 422
    assert CHOOSE_ONE in response.content.decode()


def test_over_the_session_limit_nothing_is_queued_and_the_reason_is_shown(client, owned, settings):
    assessment, report = owned
    settings.DEMO_RUNS_PER_SESSION = 2
    data = {f"{name}-chosen": "on" for name in ("replay", "durability", "push_pull")}

    response = client.post(queue_url(report), data, headers={"HX-Request": "true"})

    assert response.status_code == 422  # swapped in place (base.html htmx-config)
    # Counted before queueing: none runs yet, so the message says so (it once said "2").
    expected = TOO_MANY_CHOSEN.format(chosen=3, limit=2, busy="", room=2)
    assert expected in response.content.decode()
    assert not assessment.demo_runs.exists()  # all or none


def test_a_batch_over_what_is_left_says_how_many_still_fit(client, owned, settings):
    assessment, report = owned
    settings.DEMO_RUNS_PER_SESSION = 2
    client.post(queue_url(report), {"replay-chosen": "on"})  # tasks go out on commit: never here
    data = {f"{name}-chosen": "on" for name in ("durability", "push_pull")}

    response = client.post(queue_url(report), data, headers={"HX-Request": "true"})

    expected = TOO_MANY_CHOSEN.format(chosen=2, limit=2, busy=", and you already have 1", room=1)
    assert expected in response.content.decode()
    assert assessment.demo_runs.count() == 1
    full = {"durability-chosen": "on"}
    client.post(queue_url(report), full)
    response = client.post(queue_url(report), full, headers={"HX-Request": "true"})
    # Nothing more fits until a run finishes: a limit, answered 429 with when to retry.
    assert response.status_code == 429  # swapped in place (base.html htmx-config)
    assert int(response["Retry-After"]) >= 1
    assert TOO_MANY_RUNS.format(count=2, limit=2) in response.content.decode()


def test_a_full_queue_answers_429_with_a_page_saying_when_to_retry(client, owned, settings):
    assessment, report = owned
    settings.DEMO_RUNS_UNFINISHED_MAX = 0

    response = client.post(queue_url(report), {"replay-chosen": "on"})

    assert response.status_code == 429
    assert response["Retry-After"] == str(LIMIT_RETRY_AFTER)
    page = response.content.decode()
    assert QUEUE_FULL.format(count=0, limit=0) in page
    assert "try again in a minute or two" in page
    assert not assessment.demo_runs.exists()


def test_queueing_with_htmx_returns_the_section_with_the_new_run_polling(client, owned):
    _, report = owned

    response = client.post(
        queue_url(report), {"replay-chosen": "on"}, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="demo-runs"' in page
    run = DemoRun.objects.get()
    assert f'hx-get="{run_url(run)}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "Queued 1 demo run: Replay" in page
    # The confirmation is where the button was, marked to take focus after the swap.
    assert page.index("Queued 1 demo run") > page.index("Queue the chosen demos")
    assert "data-focus-after-swap" in page


def test_the_queue_page_works_on_its_own(client, owned):
    _, report = owned

    page = client.get(queue_url(report)).content.decode()

    assert "<html" in page
    assert 'name="exactly_once-kills"' in page
    assert "hx-post" not in page  # a plain form on its own page


# --- watching a run ----------------------------------------------------------------------


def test_polling_a_running_run_returns_its_progress_and_keeps_polling(client, owned):
    assessment, _ = owned
    run = DemoRun.objects.create(
        assessment=assessment,
        scenario="durability",
        status=Status.RUNNING,
        progress=0.42,
        progress_message="broker side: 4,200 of 10,000 acked",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    response = client.get(run_url(run), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "<html" not in page
    assert 'value="42"' in page and "42% of the run · Broker side: 4,200 of 10,000 acked" in page
    assert 'hx-trigger="every 1s"' in page
    assert f'href="{run_url(run)}"' in page  # a real link for refreshing without htmx
    assert reverse("demos:cancel", args=[run.pk]) in page


def test_polling_a_run_whose_worker_died_sweeps_it_and_stops_polling(client, owned, settings):
    assessment, _ = owned
    silent = timezone.timedelta(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT + 30)
    long_ago = timezone.now() - silent
    run = DemoRun.objects.create(
        assessment=assessment,
        scenario="durability",
        status=Status.RUNNING,
        attempts=1,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )

    page = client.get(run_url(run), headers={"HX-Request": "true"}).content.decode()

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "hx-trigger" not in page
    assert "This run failed." in page
    message = FAILED_WORKER_LOST.format(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT)
    assert run.error == message
    assert message in page


@pytest.mark.parametrize("scenario", list(SMALL))
def test_a_finished_run_shows_its_charts_summary_and_trade_off(client, owned, documents, scenario):
    assessment, _ = owned
    run = succeeded(assessment, documents[scenario])

    page = client.get(run_url(run), headers={"HX-Request": "true"}).content.decode()

    assert "hx-trigger" not in page  # polling stops
    assert documents[scenario]["summary"].replace("'", "&#x27;") in page
    for claim in documents[scenario]["claims"]:
        assert f'href="/trade-offs/#{claim}"' in page
    islands = json_islands(page)
    # Latency charts only where latency is the products' (not the simulation's pauses).
    assert (f"demo-{run.pk}-latency" in islands) == (scenario not in {"exactly_once", "replay"})
    if scenario == "clustering":  # latency by hops and throughput by cluster size instead
        assert {f"demo-{run.pk}-counts", f"demo-{run.pk}-nodes"} <= set(islands)
    else:
        assert {f"demo-{run.pk}-backlog", f"demo-{run.pk}-rate"} <= set(islands)
    for island, figure in islands.items():
        assert figure["data"] and figure["layout"]["height"] > 0
        assert page.count(f'data-plotly="{island}"') == 1
    if scenario in {"exactly_once", "replay"}:
        return
    sides = set(documents[scenario]["sides"])
    latency = islands[f"demo-{run.pk}-latency"]
    assert len(latency["data"]) == len(sides)  # every side, side by side
    assert latency["data"][0]["y"] == ["p50", "p75", "p95", "p99", "p99.9", "max"]


def test_the_counts_chart_shows_duplicates_and_losses_of_each_design(client, owned, documents):
    assessment, _ = owned
    run = succeeded(assessment, documents["exactly_once"])

    (chart,) = [c for c in run_charts(run) if c["id"].endswith("-counts")]

    traces = {
        trace["name"]: {
            label.replace("<br>", " "): value
            for label, value in zip(trace["y"], trace["x"], strict=True)
        }
        for trace in chart["figure"]["data"]
    }
    assert len(traces) == 3
    naive = next(values for name, values in traces.items() if "Naive" in name)
    assert naive["Duplicates processed"] > 0
    for name, values in traces.items():
        if "Naive" not in name:
            assert values == {"Duplicates processed": 0, "Messages lost": 0}


def test_the_full_run_page_links_back_to_the_recommendation(client, owned, documents):
    assessment, report = owned
    run = succeeded(assessment, documents["replay"])

    page = client.get(run_url(run)).content.decode()

    assert "<html" in page
    assert f'href="/reports/{report.pk}/#run-{run.pk}"' in page
    assert "plotly-basic.min.js" in page


def test_a_failed_run_shows_its_message(client, owned):
    assessment, _ = owned
    run = DemoRun.objects.create(
        assessment=assessment, scenario="replay", status=Status.FAILED, error="Disk full."
    )

    page = client.get(run_url(run)).content.decode()

    assert "Disk full." in page


def test_cancel_without_javascript_redirects_to_the_run_on_the_report(client, owned):
    assessment, report = owned
    run = DemoRun.objects.create(assessment=assessment, scenario="replay")

    response = client.post(reverse("demos:cancel", args=[run.pk]))

    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/#run-{run.pk}"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_cancel_with_htmx_returns_the_run_without_polling(client, owned):
    assessment, _ = owned
    run = DemoRun.objects.create(assessment=assessment, scenario="replay")

    response = client.post(reverse("demos:cancel", args=[run.pk]), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "Cancelled" in page and "hx-trigger" not in page


# --- other visitors ----------------------------------------------------------------------


def test_other_sessions_get_404_for_every_demo_page(client, owned, documents):
    assessment, report = owned
    run = succeeded(assessment, documents["replay"])
    queued = DemoRun.objects.create(assessment=assessment, scenario="replay")
    client.cookies.clear()

    assert client.get(queue_url(report)).status_code == 404
    assert client.post(queue_url(report), {"replay-chosen": "on"}).status_code == 404
    assert client.get(run_url(run)).status_code == 404
    assert client.post(reverse("demos:cancel", args=[queued.pk])).status_code == 404
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED
    assert DemoRun.objects.count() == 2


def test_the_read_only_section_shows_only_succeeded_runs_without_controls(owned, documents):
    assessment, report = owned
    good = succeeded(assessment, documents["push_pull"])
    DemoRun.objects.create(assessment=assessment, scenario="replay", status=Status.RUNNING)
    DemoRun.objects.create(assessment=assessment, scenario="replay", status=Status.FAILED)

    section = demo_section_context(report, is_owner=False)
    html = render_to_string("demoruns/section.html", section)

    assert [demo["run"] for demo in section["runs"]] == [good]
    assert documents["push_pull"]["summary"].split(",")[0] in html
    assert f"demo-{good.pk}-latency" in html
    for control in ("<form", "hx-get", "hx-post", "hx-trigger", "Cancel", "csrf"):
        assert control not in html


def test_the_read_only_section_is_empty_without_succeeded_runs(owned):
    assessment, report = owned
    DemoRun.objects.create(assessment=assessment, scenario="replay")

    html = render_to_string("demoruns/section.html", demo_section_context(report, is_owner=False))

    assert html.strip() == ""


# --- exports -----------------------------------------------------------------------------


def test_the_export_lists_succeeded_runs_with_their_key_figures(owned, documents):
    assessment, report = owned
    succeeded(assessment, documents["durability"])
    succeeded(assessment, documents["exactly_once"])
    DemoRun.objects.create(assessment=assessment, scenario="replay", status=Status.FAILED)

    exported = demo_runs_export(report)

    assert [entry["scenario"] for entry in exported] == ["durability", "exactly_once"]
    durability = exported[0]
    assert durability["engine"] == "embedded"
    assert durability["claims"] == ["T4", "M2"]
    assert durability["summary"] == documents["durability"]["summary"]
    assert durability["parameters"]["messages"] == 300
    assert durability["key_figures"]["broker"]["Acked, not on disk at the crash"] == 0
    assert durability["key_figures"]["log"]["Acked, not on disk at the crash"] > 0
    assert durability["key_figures"]["broker"]["publish_latency_p99_ms"] > 0
    assert exported[1]["key_figures"]["naive"]["Duplicates processed"] > 0
    json.dumps(exported)  # ready for the JSON export


def test_a_clustering_run_with_more_nodes_than_cpus_says_so(client, owned, documents):
    assessment, _ = owned
    metrics = {**documents["clustering"], "machine": {**documents["clustering"]["machine"]}}
    metrics["machine"]["cpu_count"] = 2
    metrics["parameters"] = {**metrics["parameters"], "nodes": 5}
    run = succeeded(assessment, metrics)

    page = client.get(run_url(run)).content.decode()

    assert "This machine has 2 CPUs for 5 node processes" in page
    assert "a limit of this machine, not of either product" in page


def test_a_durability_run_whose_broker_kept_up_says_why_the_rates_look_alike(
    client, owned, documents
):
    assessment, _ = owned
    metrics = json.loads(json.dumps(documents["durability"]))
    metrics["parameters"]["target_rate"] = 1000
    metrics["sides"]["broker"]["publish_rate"] = 1000.0
    run = succeeded(assessment, metrics)

    page = client.get(run_url(run)).content.decode()

    assert "The broker side kept up with the target rate of 1,000 msgs/s here" in page


def test_queueing_while_the_queue_is_down_answers_503_saying_so_and_queues_nothing(client, owned):
    assessment, report = owned
    refused = BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with mock.patch("advisor.demoruns.services.queue_execution", side_effect=refused):
        page = client.post(queue_url(report), {"replay-chosen": "on"})
        section = client.post(
            queue_url(report), {"replay-chosen": "on"}, headers={"HX-Request": "true"}
        )

    for response in (page, section):
        assert response.status_code == 503
        assert QUEUE_UNAVAILABLE in response.content.decode()
    assert not assessment.demo_runs.exists()


def test_a_live_durability_run_names_its_products_and_charts_the_failover_side(
    client, owned, documents
):
    assessment, _ = owned
    document = json.loads(json.dumps(documents["durability"]))
    failover_label = "Artemis durable send, replicated pair (failover)"
    document["engine"] = "live"
    document["sides"]["broker_failover"] = {**document["sides"]["broker"], "label": failover_label}
    document["products"] = {
        "kafka": {"product": "Apache Kafka", "version": "4.2.0", "target": "local Kafka"},
        "artemis": {
            "product": "Apache ActiveMQ Artemis",
            "version": "2.40.0",
            "target": "local Artemis",
        },
    }
    run = succeeded(assessment, document, engine="live")

    page = client.get(run_url(run)).content.decode()

    assert (
        "Measured on Apache ActiveMQ Artemis 2.40.0 (local Artemis) and "
        "Apache Kafka 4.2.0 (local Kafka)." in page
    )
    islands = json_islands(page)
    for chart in ("counts", "latency", "rate", "backlog"):
        names = [t["name"].replace("<br>", " ") for t in islands[f"demo-{run.pk}-{chart}"]["data"]]
        assert failover_label in names, chart
    exported = demo_runs_export(owned[1])
    assert exported[0]["products"][1] == "Apache Kafka 4.2.0 (local Kafka)"
    assert failover_label in {figures["label"] for figures in exported[0]["key_figures"].values()}
