"""Where a live run goes: a Kafka cluster and an Artemis cluster, never an address a user typed.

A :class:`Target` is built either from the local clusters ``make brokers`` started (their
state file) or, in the Django app, from a target an administrator registered. Passwords never
appear in ``repr`` or in error messages.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from advisor.demos.drivers.live import brokers
from advisor.demos.errors import DriverError

KAFKA = "kafka"
ARTEMIS = "artemis"
PRODUCTS = {KAFKA: "Apache Kafka", ARTEMIS: "Apache ActiveMQ Artemis"}
# Every client call is bounded by this, so a dead or slow target fails the run, never hangs it.
CONNECT_TIMEOUT_S = 10.0
NO_LOCAL_BROKERS = (
    "no live {product} target: the local clusters are not running (start them with "
    "`make brokers`) and none was chosen"
)


@dataclass(frozen=True)
class Target:
    """A cluster a live run may use; ``local`` ones can have their nodes killed and restarted."""

    name: str
    product: str  # KAFKA or ARTEMIS
    addresses: tuple[str, ...]  # host:port of each bootstrap server or acceptor
    version: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    tls: bool = False
    tls_ca_file: str = ""
    tls_verify_hostname: bool = True
    sasl_mechanism: str = "PLAIN"  # Kafka with credentials: PLAIN or SCRAM-SHA-512
    local: bool = False
    failover: tuple[str, ...] = ()  # Artemis: the replicated primary and its backup
    node_names: tuple[str, ...] = ()  # local: the broker node behind each address
    # Artemis, local: the small-credit AMQP acceptor of the first node (brokers.py).
    flow_address: str = ""

    def describe(self) -> str:
        return f"{self.name} ({PRODUCTS.get(self.product, self.product)} at {self.addresses[0]})"

    # --- Kafka ---------------------------------------------------------------------------

    def kafka_config(self, **extra) -> dict:
        """librdkafka settings for this cluster: bootstrap, security, bounded timeouts."""
        config: dict = {
            "bootstrap.servers": ",".join(self.addresses),
            "socket.timeout.ms": int(CONNECT_TIMEOUT_S * 1000),
            "socket.connection.setup.timeout.ms": int(CONNECT_TIMEOUT_S * 1000),
            "log_level": 0,  # failures reach us through callbacks and exceptions instead
        }
        if self.user:
            config["security.protocol"] = "SASL_SSL" if self.tls else "SASL_PLAINTEXT"
            config["sasl.mechanisms"] = self.sasl_mechanism
            config["sasl.username"] = self.user
            config["sasl.password"] = self.password
        elif self.tls:
            config["security.protocol"] = "SSL"
        if self.tls:
            if self.tls_ca_file:
                config["ssl.ca.location"] = self.tls_ca_file
            if not self.tls_verify_hostname:
                config["ssl.endpoint.identification.algorithm"] = "none"
        config.update(extra)
        return config

    # --- Artemis -------------------------------------------------------------------------

    def amqp_url(self, index: int = 0) -> str:
        scheme = "amqps" if self.tls else "amqp"
        return f"{scheme}://{self.addresses[index % len(self.addresses)]}"

    def amqp_options(self) -> dict:
        """Keyword arguments for proton's connect (credentials and TLS)."""
        options: dict = {"user": self.user or None, "password": self.password or None}
        if self.user:
            options["sasl_enabled"] = True
            options["allowed_mechs"] = "PLAIN"
        if self.tls:
            from proton import SSLDomain, SSLException

            domain = SSLDomain(SSLDomain.MODE_CLIENT)
            if self.tls_ca_file:
                try:
                    domain.set_trusted_ca_db(self.tls_ca_file)
                except SSLException:
                    raise DriverError(
                        f"target {self.describe()}: the TLS CA file {self.tls_ca_file} "
                        "cannot be read as PEM certificates"
                    ) from None
            if self.tls_verify_hostname:
                domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
            else:
                domain.set_peer_authentication(SSLDomain.ANONYMOUS_PEER)
            options["ssl_domain"] = domain
        return options


def local_targets() -> dict[str, Target]:
    """The clusters ``make brokers`` started and that run now, by product."""
    state = brokers.read_state() or {}
    found: dict[str, Target] = {}
    if brokers.running(KAFKA):
        kafka = state[KAFKA]
        found[KAFKA] = Target(
            name="local Kafka (make brokers)",
            product=KAFKA,
            addresses=tuple(kafka["bootstrap"].split(",")),
            version=kafka["version"],
            local=True,
            node_names=tuple(node["name"] for node in kafka["nodes"]),
        )
    if brokers.running(ARTEMIS):
        artemis = state[ARTEMIS]
        found[ARTEMIS] = Target(
            name="local Artemis (make brokers)",
            product=ARTEMIS,
            addresses=tuple(artemis["cluster"]),
            version=artemis["version"],
            user=artemis["user"],
            password=artemis["password"],
            local=True,
            failover=tuple(artemis["pair"]),
            node_names=tuple(node["name"] for node in artemis["nodes"][:3]),
            flow_address=artemis.get("flow", {}).get("address", ""),
        )
    return found


def tls_cause(target: Target, cause: str) -> str:
    """A TLS failure in words an administrator acts on, the library's own words after."""
    lowered = cause.lower()
    trusted = target.tls_ca_file or "the system's CA certificates"
    if "certificate verify failed" in lowered:
        return f"TLS: the server's certificate is not trusted by {trusted} ({cause})"
    if "hostname" in lowered or "name mismatch" in lowered or "subject name" in lowered:
        return f"TLS: the server's certificate does not name {target.addresses[0]} ({cause})"
    return cause


def local_secured_targets() -> dict[str, Target]:
    """The local clusters' TLS and SASL entrances (``make brokers``), where they run.

    ``artemis_tls``: the TLS acceptor of artemis-1 with the generated CA file and the
    broker's user; ``kafka_sasl``: the SASL_PLAINTEXT listeners with the PLAIN user. Neither
    is marked local: runs on them stage no kills, as on a cluster someone else runs.
    """
    state = brokers.read_state() or {}
    found: dict[str, Target] = {}
    if brokers.running(ARTEMIS) and "tls" in state[ARTEMIS]:
        artemis = state[ARTEMIS]
        found["artemis_tls"] = Target(
            name="local Artemis over TLS",
            product=ARTEMIS,
            addresses=(artemis["tls"]["address"],),
            version=artemis["version"],
            user=artemis["user"],
            password=artemis["password"],
            tls=True,
            tls_ca_file=artemis["tls"]["ca_file"],
        )
    if brokers.running(KAFKA) and "sasl" in state[KAFKA]:
        sasl = state[KAFKA]["sasl"]
        found["kafka_sasl"] = Target(
            name="local Kafka over SASL",
            product=KAFKA,
            addresses=tuple(sasl["bootstrap"].split(",")),
            version=state[KAFKA]["version"],
            user=sasl["user"],
            password=sasl["password"],
            sasl_mechanism=sasl["mechanism"],
        )
    return found


def check_kafka(target: Target) -> int:
    """How many brokers the cluster has; DriverError naming the target and cause otherwise.

    librdkafka hands errors to ``error_cb`` only when the client is polled, so after a
    failure the client is polled once and a refused login or a failed TLS handshake is
    named rather than the bare "transport failure" that follows it.
    """
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient

    errors: list = []
    if target.tls and target.tls_ca_file and not os.access(target.tls_ca_file, os.R_OK):
        raise DriverError(
            f"target {target.describe()}: the TLS CA file {target.tls_ca_file} cannot be read"
        )
    try:
        admin = AdminClient(target.kafka_config(error_cb=errors.append))
    except KafkaException as error:  # a setting librdkafka refuses (e.g. an unreadable CA)
        raise DriverError(f"target {target.describe()}: {error}") from None
    try:
        metadata = admin.list_topics(timeout=CONNECT_TIMEOUT_S)
    except KafkaException as error:
        admin.poll(0)
        telling = [e for e in errors if e.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL)]
        if telling and telling[0].code() == KafkaError._AUTHENTICATION:
            raise DriverError(
                f"target {target.describe()} refused the credentials: {telling[0].str()}"
            ) from None
        if telling:
            raise DriverError(
                f"target {target.describe()}: {tls_cause(target, telling[0].str())}"
            ) from None
        cause = errors[-1].str() if errors else str(error)
        raise DriverError(
            f"target {target.describe()} did not answer within {CONNECT_TIMEOUT_S:.0f} s: {cause}"
        ) from None
    return len(metadata.brokers)


def check_artemis(target: Target) -> None:
    """Open and close an AMQP connection; DriverError naming the target and cause otherwise."""
    from proton.utils import BlockingConnection

    try:
        connection = BlockingConnection(
            target.amqp_url(), timeout=CONNECT_TIMEOUT_S, **target.amqp_options()
        )
    except DriverError:
        raise
    except Exception as error:  # proton raises ConnectionException, Timeout, SSLException...
        cause = str(error) or type(error).__name__
        if "unauthorized" in cause.lower() or "sasl" in cause.lower():
            cause = f"credentials refused ({cause})"
        elif target.tls:
            cause = tls_cause(target, cause)
        raise DriverError(f"target {target.describe()} could not be reached: {cause}") from None
    with contextlib.suppress(Exception):
        connection.close()
