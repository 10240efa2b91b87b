"""TLS and SASL target options against brokers that require them (`make brokers`).

Artemis: the TLS acceptor of artemis-1, its certificate made by the JDK's keytool, trusted
through the CA file the target names, host name checked. Kafka: the SASL_PLAINTEXT
listeners with the PLAIN mechanism. A message goes through each; a CA that did not sign
the broker's certificate and a wrong password fail naming the target and the cause.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import replace

import pytest

from advisor.demos.drivers import run_scenario
from advisor.demos.drivers.live.clients import (
    AmqpProducer,
    amqp_drain,
    kafka_create_topic,
    kafka_delete_topics,
    kafka_produce,
    kafka_read_all,
)
from advisor.demos.drivers.live.targets import check_artemis, check_kafka, local_secured_targets
from advisor.demos.errors import DriverError

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def secured(live_targets):
    found = local_secured_targets()
    assert set(found) == {"artemis_tls", "kafka_sasl"}, "make brokers sets both up"
    return found


@pytest.fixture
def other_ca(tmp_path):
    """A self-signed certificate that did not sign the broker's, as a PEM CA file."""
    keytool = shutil.which("keytool")
    store, pem = tmp_path / "other.p12", tmp_path / "other-ca.pem"
    common = ["-alias", "other", "-keystore", str(store), "-storepass", "other-password"]
    for args in (
        ["-genkeypair", *common, "-storetype", "PKCS12", "-keyalg", "RSA", "-keysize", "2048"]
        + ["-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1"],
        ["-exportcert", *common, "-rfc", "-file", str(pem)],
    ):
        subprocess.run([keytool, *args], check=True, capture_output=True, timeout=60)
    return str(pem)


def test_a_message_goes_through_artemis_over_tls_and_kafka_over_sasl(secured):
    artemis, kafka = secured["artemis_tls"], secured["kafka_sasl"]
    assert artemis.amqp_url().startswith("amqps://") and artemis.tls_ca_file

    check_artemis(artemis)
    queue = f"advisor.test.tls.{time.time_ns()}"
    sent = AmqpProducer(
        artemis,
        artemis.amqp_url(),
        queue,
        messages=20,
        payload=b"t" * 64,
        durable=True,
        target_rate=0,
    ).run()
    assert len(sent.acked) == 20, sent.errors
    assert sorted(amqp_drain(artemis, artemis.amqp_url(), queue, idle_s=3).ids) == list(range(20))

    assert kafka.kafka_config()["security.protocol"] == "SASL_PLAINTEXT"
    assert check_kafka(kafka) == 3
    topic = f"advisor-test-sasl-{time.time_ns()}"
    kafka_create_topic(kafka, topic)
    try:
        produced = kafka_produce(
            kafka,
            topic,
            messages=20,
            payload=b"s" * 64,
            target_rate=0,
            producer_config={"acks": "all"},
        )
        assert len(produced.acked) == 20
        assert sorted(kafka_read_all(kafka, topic, expected=20).ids) == list(range(20))
    finally:
        kafka_delete_topics(kafka, [topic])


def test_a_tls_target_whose_ca_did_not_sign_the_broker_fails_naming_target_and_cause(
    secured, live_targets, other_ca, tmp_path
):
    wrong = replace(secured["artemis_tls"], name="artemis with another CA", tls_ca_file=other_ca)

    with pytest.raises(DriverError) as failure:
        run_scenario(
            "replay",
            {},
            engine="live",
            workdir=tmp_path,
            targets={**live_targets, "artemis": wrong},
        )

    message = str(failure.value)
    assert "artemis with another CA" in message
    assert f"not trusted by {other_ca}" in message and "certificate verify failed" in message
    assert wrong.password not in message


def test_a_sasl_target_with_a_wrong_password_fails_saying_the_credentials_were_refused(
    secured, live_targets, tmp_path
):
    wrong = replace(secured["kafka_sasl"], name="kafka with a wrong password", password="no")

    with pytest.raises(DriverError) as failure:
        run_scenario(
            "replay",
            {},
            engine="live",
            workdir=tmp_path,
            targets={**live_targets, "kafka": wrong},
        )

    message = str(failure.value)
    assert "target kafka with a wrong password" in message
    assert "refused the credentials" in message
    assert "Authentication failed" in message
