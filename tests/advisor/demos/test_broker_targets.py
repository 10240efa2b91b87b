"""Live demo runs go only to targets an administrator registered and enabled.

No broker is needed: the targets point at a closed port, so a run against them must fail
with a message naming the target (and never its password).
"""

from __future__ import annotations

import socket
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from advisor.demoruns.models import BrokerTarget, DemoRun
from advisor.demoruns.services import (
    FAILED_TARGET_DISABLED,
    demo_run_enqueue,
    demo_run_execute,
)
from advisor.demos.drivers.live.targets import ARTEMIS, KAFKA, Target
from tests.factories import UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db
SECRET = "s3cret-never-shown"
SMALL_REPLAY = {"messages": 20, "consumed_percent": 100, "late_consumers": 1}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def assessment(published_ruleset):
    assessment, _report = submitted_assessment("telemetry_lake")
    return assessment


@pytest.fixture
def targets():
    kafka = BrokerTarget.objects.create(
        name="kafka-down", product="kafka", addresses=f"127.0.0.1:{closed_port()}"
    )
    artemis = BrokerTarget.objects.create(
        name="artemis-down",
        product="artemis",
        addresses=f"127.0.0.1:{closed_port()}",
        username="advisor",
        password=SECRET,
    )
    return kafka, artemis


def enqueue(assessment, **options) -> DemoRun:
    with mock.patch("advisor.demoruns.services.queue_execution"):
        return demo_run_enqueue(
            assessment=assessment,
            scenario="replay",
            parameters=SMALL_REPLAY,
            owner_session="s",
            engine="live",
            **options,
        )


def test_a_live_run_needs_an_enabled_target_of_each_product(assessment, targets):
    kafka, artemis = targets
    with pytest.raises(ValidationError) as error:
        enqueue(assessment, kafka_target=kafka)
    assert "Artemis" in error.value.message_dict["artemis_target"][0]

    with pytest.raises(ValidationError) as error:
        enqueue(assessment, kafka_target=artemis, artemis_target=artemis)
    assert "'artemis-down' is not an enabled Apache Kafka target" in str(error.value)

    kafka.enabled = False
    kafka.save()
    with pytest.raises(ValidationError, match="kafka-down"):
        enqueue(assessment, kafka_target=kafka, artemis_target=artemis)
    assert not DemoRun.objects.exists()


def test_a_live_run_against_a_stopped_target_fails_naming_it_without_the_password(
    assessment, targets
):
    kafka, artemis = targets
    run = enqueue(assessment, kafka_target=kafka, artemis_target=artemis)

    assert demo_run_execute(run_id=run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == DemoRun.Status.FAILED
    assert "kafka-down" in run.error and "did not answer" in run.error
    assert SECRET not in run.error


def test_a_target_disabled_after_queueing_fails_the_run_clearly(assessment, targets):
    kafka, artemis = targets
    run = enqueue(assessment, kafka_target=kafka, artemis_target=artemis)
    BrokerTarget.objects.filter(pk=artemis.pk).update(enabled=False)

    demo_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == DemoRun.Status.FAILED
    assert FAILED_TARGET_DISABLED.format(target=f"artemis #{artemis.pk}") in run.error


def test_addresses_must_be_host_and_port():
    target = BrokerTarget(name="bad", product="kafka", addresses="http://evil/;rm -rf")
    with pytest.raises(ValidationError) as error:
        target.full_clean()
    assert "is not host:port" in error.value.message_dict["addresses"][0]


def test_the_admin_never_shows_the_password_and_keeps_it_when_left_empty(client, targets):
    _kafka, artemis = targets
    client.force_login(UserFactory(admin=True, username="ada"))
    url = reverse("admin:advisor_brokertarget_change", args=[artemis.pk])
    page = client.get(url).content.decode()
    assert SECRET not in page
    assert (
        SECRET not in client.get(reverse("admin:advisor_brokertarget_changelist")).content.decode()
    )

    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"password": "", "name": "artemis-renamed", "enabled": "on"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    artemis.refresh_from_db()
    assert (artemis.name, artemis.password) == ("artemis-renamed", SECRET)


def test_the_queue_form_offers_only_registered_targets(client, published_ruleset, targets):
    from advisor.ownership import SESSION_ASSESSMENTS as KEY

    assessment, report = submitted_assessment("telemetry_lake")
    session = client.session
    session[KEY] = [str(assessment.pk)]
    session.save()
    url = reverse("demos:queue", args=[report.pk])
    page = client.get(url).content.decode()
    assert "kafka-down" in page and "Where to run" in page

    with mock.patch("advisor.demoruns.services.queue_execution"):
        response = client.post(
            url,
            {
                "replay-chosen": "on",
                "runs-on-engine": "live",
                "runs-on-kafka_target": "attacker.example:9092",
                "runs-on-artemis_target": str(targets[1].pk),
            },
        )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not DemoRun.objects.exists()

    with mock.patch("advisor.demoruns.services.queue_execution"):
        response = client.post(
            url,
            {
                "replay-chosen": "on",
                "runs-on-engine": "live",
                "runs-on-kafka_target": str(targets[0].pk),
                "runs-on-artemis_target": str(targets[1].pk),
            },
        )
    assert response.status_code == 302
    run = DemoRun.objects.get()
    assert (run.engine, run.kafka_target, run.artemis_target) == ("live", *targets)


def test_register_local_brokers_records_the_running_clusters(monkeypatch, capsys):
    found = {
        KAFKA: Target("k", KAFKA, ("127.0.0.1:19092",), version="4.2.0", local=True),
        ARTEMIS: Target(
            "a", ARTEMIS, ("127.0.0.1:61717",), version="2.40.0", user="u", password=SECRET
        ),
    }
    monkeypatch.setattr(
        "advisor.management.commands.register_local_brokers.local_targets", lambda: found
    )
    call_command("register_local_brokers")
    call_command("register_local_brokers")
    rows = {row.name: row for row in BrokerTarget.objects.all()}
    assert set(rows) == {"local Kafka", "local Artemis"}
    assert rows["local Artemis"].password == SECRET and rows["local Artemis"].local
    assert SECRET not in capsys.readouterr().out


def test_register_local_brokers_without_brokers_says_how_to_start_them(monkeypatch, capsys):
    monkeypatch.setattr(
        "advisor.management.commands.register_local_brokers.local_targets", lambda: {}
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("register_local_brokers")
    assert exit_info.value.code == 1
    assert "make brokers" in capsys.readouterr().err
