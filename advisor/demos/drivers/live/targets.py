"""Where a live run goes: a Kafka cluster and an Artemis cluster, never an address a user typed.

A :class:`Target` is built either from the local clusters ``make brokers`` started (their
state file) or, in the Django app, from a target an administrator registered. Passwords never
appear in ``repr`` or in error messages.
"""

from __future__ import annotations

import contextlib
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
            from proton import SSLDomain

            domain = SSLDomain(SSLDomain.MODE_CLIENT)
            if self.tls_ca_file:
                domain.set_trusted_ca_db(self.tls_ca_file)
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
        )
    return found


def check_kafka(target: Target) -> int:
    """How many brokers the cluster has; DriverError naming the target and cause otherwise."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    errors: list[str] = []

    def on_error(error) -> None:
        errors.append(str(error))

    admin = AdminClient(target.kafka_config(error_cb=on_error))
    try:
        metadata = admin.list_topics(timeout=CONNECT_TIMEOUT_S)
    except KafkaException as error:
        cause = errors[-1] if errors else str(error)
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
    except Exception as error:  # proton raises ConnectionException, Timeout, SSLException...
        cause = str(error) or type(error).__name__
        if "unauthorized" in cause.lower() or "sasl" in cause.lower():
            cause = f"credentials refused ({cause})"
        raise DriverError(f"target {target.describe()} could not be reached: {cause}") from None
    with contextlib.suppress(Exception):
        connection.close()
