"""Demo runs: one scenario measured for an assessment, queued to a Celery worker."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from advisor.security import fingerprint


def heartbeat_deadline(now: datetime | None = None) -> datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return (now or timezone.now()) - timedelta(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT)


# host:port, the host a name or an IPv4 address (IPv6 literals in brackets).
ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")
BAD_ADDRESS = "'{address}' is not host:port (e.g. kafka-1.example.com:9093)"


class BrokerTargetQuerySet(models.QuerySet):
    def enabled(self) -> BrokerTargetQuerySet:
        return self.filter(enabled=True)

    def for_product(self, product: str) -> BrokerTargetQuerySet:
        return self.filter(product=product)


class BrokerTarget(models.Model):
    """A Kafka or Artemis cluster an administrator allows live demo runs to use.

    Users choose among enabled targets; nobody types an address into a run. The password
    is write-only in the admin and never shown on a page or in a log line.
    """

    class Product(models.TextChoices):
        KAFKA = "kafka", "Apache Kafka"
        ARTEMIS = "artemis", "Apache ActiveMQ Artemis"

    class SaslMechanism(models.TextChoices):
        PLAIN = "PLAIN", "PLAIN"
        SCRAM_256 = "SCRAM-SHA-256", "SCRAM-SHA-256"
        SCRAM_512 = "SCRAM-SHA-512", "SCRAM-SHA-512"

    name = models.CharField(max_length=80, unique=True)
    product = models.CharField(max_length=10, choices=Product.choices)
    addresses = models.CharField(
        max_length=500,
        help_text="Kafka bootstrap servers or Artemis acceptors: host:port, comma-separated.",
    )
    version = models.CharField(max_length=20, blank=True, help_text="Shown with the results.")
    username = models.CharField(max_length=200, blank=True)
    password = models.CharField(max_length=500, blank=True)
    tls = models.BooleanField("TLS", default=False)
    tls_ca_file = models.CharField(
        "TLS CA file", max_length=500, blank=True, help_text="A CA bundle on the worker."
    )
    tls_verify_hostname = models.BooleanField("verify the host name", default=True)
    sasl_mechanism = models.CharField(
        "SASL mechanism (Kafka)",
        max_length=20,
        choices=SaslMechanism.choices,
        default=SaslMechanism.PLAIN,
    )
    enabled = models.BooleanField(default=True)
    local = models.BooleanField(
        default=False,
        help_text="Started by `make brokers` on this machine: runs may kill and restart nodes.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = BrokerTargetQuerySet.as_manager()

    class Meta:
        ordering = ["product", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_product_display()})"

    def address_list(self) -> list[str]:
        return [part.strip() for part in self.addresses.split(",") if part.strip()]

    def clean(self) -> None:
        addresses = self.address_list()
        if not addresses:
            raise ValidationError({"addresses": "give at least one host:port"})
        for address in addresses:
            match = ADDRESS.match(address)
            if match is None or not 0 < int(match.group(2)) < 65536:
                raise ValidationError({"addresses": BAD_ADDRESS.format(address=address)})
        if self.password and not self.username:
            raise ValidationError({"username": "a password needs a user name"})

    def to_target(self):
        """The plain-Python target the live driver connects to."""
        from advisor.demos.drivers.live import targets

        node_names: tuple[str, ...] = ()
        failover: tuple[str, ...] = ()
        flow_address = ""
        if self.local:
            found = targets.local_targets().get(self.product)
            if found is not None:
                node_names, failover = found.node_names, found.failover
                flow_address = found.flow_address
        return targets.Target(
            name=self.name,
            product=self.product,
            addresses=tuple(self.address_list()),
            version=self.version,
            user=self.username,
            password=self.password,
            tls=self.tls,
            tls_ca_file=self.tls_ca_file,
            tls_verify_hostname=self.tls_verify_hostname,
            sasl_mechanism=self.sasl_mechanism,
            local=self.local and bool(node_names),
            failover=failover,
            node_names=node_names,
            flow_address=flow_address,
        )


class DemoRunQuerySet(models.QuerySet):
    def unfinished(self) -> DemoRunQuerySet:
        return self.filter(status__in=[DemoRun.Status.QUEUED, DemoRun.Status.RUNNING])

    def succeeded(self) -> DemoRunQuerySet:
        return self.filter(status=DemoRun.Status.SUCCEEDED)

    def for_session(self, session_key: str | None) -> DemoRunQuerySet:
        return self.filter(owner_session=fingerprint(session_key))

    def for_client(self, address: str | None) -> DemoRunQuerySet:
        return self.filter(owner_client=fingerprint(address))

    # The one definition of a stuck run: the sweep fails these, and pages ask it of a run.

    def lost(self, now: datetime) -> DemoRunQuerySet:
        """Running runs whose worker fell silent, or that outlived the hard time limit."""
        silent_since = heartbeat_deadline(now)
        started_before = now - timedelta(seconds=settings.DEMO_RUN_TIME_LIMIT)
        return self.filter(status=DemoRun.Status.RUNNING).filter(
            models.Q(heartbeat_at__lt=silent_since)
            | models.Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
            | models.Q(started_at__lt=started_before)
        )

    def never_started(self, now: datetime) -> DemoRunQuerySet:
        """Queued runs no worker started within ``DEMO_RUN_QUEUE_TIMEOUT``."""
        waited_since = now - timedelta(seconds=settings.DEMO_RUN_QUEUE_TIMEOUT)
        return self.filter(status=DemoRun.Status.QUEUED, created_at__lt=waited_since)

    def stuck(self, now: datetime) -> DemoRunQuerySet:
        return self.lost(now) | self.never_started(now)

    def queued_before(self, moment: datetime) -> DemoRunQuerySet:
        """Queued runs created before ``moment`` (the sweep asks the broker about them)."""
        return self.filter(status=DemoRun.Status.QUEUED, created_at__lt=moment)


class DemoRun(models.Model):
    """One queued or finished demo scenario run, hanging off an assessment."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        "questionnaire.Assessment", on_delete=models.CASCADE, related_name="demo_runs"
    )
    scenario = models.CharField(max_length=40)
    engine = models.CharField(max_length=40, default="embedded")
    # Live runs: the registered clusters they use (kept when a target is later disabled).
    kafka_target = models.ForeignKey(
        BrokerTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    artemis_target = models.ForeignKey(
        BrokerTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    metrics = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Keyed hashes (security.fingerprint) of the session and the client address
    # that queued it, for the per-visitor limits; neither is stored in clear.
    owner_session = models.CharField(max_length=64, blank=True, db_index=True)
    owner_client = models.CharField(max_length=64, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Messages sent to the queue for it: a second one only when the broker lost the first.
    sends = models.PositiveSmallIntegerField(default=1)
    # Written about every second by the worker running it: a silent run lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = DemoRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.scenario} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}
