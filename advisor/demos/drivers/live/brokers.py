"""Local Kafka and Artemis clusters for the live demos: fetch, start, check, stop.

``python -m advisor.demos.drivers.live.brokers start`` (``make brokers``) fetches the pinned
releases through Maven (pom.xml beside this module) into ``var/brokers`` (git-ignored, reused when
present; Maven checks every file against Central's checksums and the Artemis distribution is
checked again against the SHA-256 pinned below), then starts, on loopback only:

- Kafka 4.2 in KRaft mode: three nodes, each broker and controller (static quorum voters);
- Artemis 2.40: a three-node static cluster with ON_DEMAND load balancing and
  ``redistribution-delay`` 0, and a primary/backup pair with replication (failover demo);
- for the TLS and SASL target options: a TLS acceptor on the first Artemis node (a
  self-signed key made with the JDK's ``keytool`` into ``var/brokers/run/tls``, never
  committed) and a SASL_PLAINTEXT listener (mechanism PLAIN) on every Kafka node;
- for the push/pull demo's broker buffer: an AMQP acceptor on the first Artemis node with
  ``amqpCredits`` 10 (low mark 3). Artemis grants AMQP producers credit in batches and
  withholds the next batch while an address with policy BLOCK is full, so a producer can
  overshoot the bound by the credit it holds (1,000 on the default acceptor; "Flow Control",
  "Blocking AMQP Producers").

The replicated pair fails back after a failover: the primary has ``check-for-active-server``
(without it a restarted primary would serve the messages its backup already handled), the
backup ``allow-failback`` and ``restart-backup``, so restarting a killed primary brings back
the pair as it was (Artemis "High Availability and Failover", "Failback with Replication";
defaults in ActiveMQDefaultConfiguration). A pair alone cannot hold a quorum vote, and needs
none: with one active server in the cluster the backup's vote needs 0 votes and it activates
(QuorumVoteServerConnect, "Network Isolation").

Every JVM runs in its own process group with a pid file; ``stop`` sends SIGTERM to each group
and SIGKILL after :data:`STOP_GRACE_S`. Readiness is real: three brokers registered and a
round trip through a topic with three replicas; Artemis "Server is now active", each cluster
node's bridges connected, the backup replicating, and an AMQP round trip on every node.
A failure names what was awaited and ends with the last lines of that node's log.

Sources: Kafka's KRaft quick start and config docs (process.roles, controller.quorum.voters,
``kafka-storage format``); Artemis' "Clusters" (redistribution-delay, ON_DEMAND) and "High
Availability and Failover" (replication) chapters and ``artemis help create``; "Configuring
Transports" (sslEnabled, keyStorePath); Kafka's "Authentication using SASL/PLAIN"
(listener.name.<listener>.plain.sasl.jaas.config).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
POM = Path(__file__).with_name("pom.xml")
CACHE = Path(os.environ.get("ADVISOR_BROKERS_DIR", ROOT / "var" / "brokers"))
RUN = CACHE / "run"
STATE_FILE = RUN / "state.json"

KAFKA_VERSION = "4.2.0"
ARTEMIS_VERSION = "2.40.0"
ARTEMIS_SHA256 = "3add67e7b0af89f81eac1e6c577427b049b4e7502fb278c591838465d5ca93b5"
HOST = "127.0.0.1"
# Ports away from the common ones (9092, 61616, 5672, 8161...).
KAFKA_PORTS = (19092, 19093, 19094)
KAFKA_CONTROLLER_PORTS = (19192, 19193, 19194)
ARTEMIS_CLUSTER_PORTS = (61717, 61718, 61719)
ARTEMIS_PAIR_PORTS = (61727, 61728)  # primary, backup
ARTEMIS_TLS_PORT = 61737  # a TLS acceptor on artemis-1
# An AMQP acceptor on artemis-1 that grants producers little credit at a time, so that an
# address whose policy is BLOCK stops a producer within FLOW_CREDITS messages of its bound.
ARTEMIS_FLOW_PORT = 61747
FLOW_CREDITS = 10
KAFKA_SASL_PORTS = (19095, 19096, 19097)  # SASL_PLAINTEXT, PLAIN
KAFKA_SASL_USER = "advisor"
TLS_DIR = RUN / "tls"
KAFKA_HEAP = os.environ.get("ADVISOR_KAFKA_HEAP", "384m")
ARTEMIS_HEAP = os.environ.get("ADVISOR_ARTEMIS_HEAP", "256M")
STOP_GRACE_S = 20.0
START_TIMEOUT_S = float(os.environ.get("ADVISOR_BROKERS_START_TIMEOUT", "240"))
FETCH_TIMEOUT_S = 900.0
ARTEMIS_USER = "advisor"
CLUSTERS = ("kafka", "artemis")


class BrokerError(RuntimeError):
    """The brokers could not be fetched, started, checked or stopped; the message says why."""


@dataclass
class Node:
    """One JVM: where it lives, how to start it, and which log tells about it."""

    name: str
    directory: Path
    command: list[str]
    log: Path
    env: dict[str, str] | None = None

    @property
    def pid_file(self) -> Path:
        return self.directory / "pid"

    def to_data(self) -> dict:
        return {
            "name": self.name,
            "directory": str(self.directory),
            "command": self.command,
            "log": str(self.log),
            "env": self.env,
        }

    @classmethod
    def from_data(cls, data: dict) -> Node:
        return cls(
            name=data["name"],
            directory=Path(data["directory"]),
            command=list(data["command"]),
            log=Path(data["log"]),
            env=data.get("env"),
        )


# --- fetching ---------------------------------------------------------------------------


def java_and_maven() -> str | None:
    """None when both java and mvn are on PATH, else a sentence saying which is missing."""
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not found on PATH (the live brokers need Java 17+ and Maven)"
        )
    return None


def kafka_classpath_file() -> Path:
    return CACHE / f"kafka-{KAFKA_VERSION}.classpath"


def artemis_home() -> Path:
    return CACHE / f"apache-artemis-{ARTEMIS_VERSION}"


def fetch() -> None:
    """Resolve the pinned releases through Maven unless the cache already holds them."""
    tarball = CACHE / f"apache-artemis-{ARTEMIS_VERSION}-bin.tar.gz"
    classpath = kafka_classpath_file()
    have_kafka = classpath.exists() and all(
        Path(jar).exists() for jar in classpath.read_text().strip().split(os.pathsep)
    )
    if not (have_kafka and (tarball.exists() or artemis_home().exists())):
        problem = java_and_maven()
        if problem:
            raise BrokerError(problem)
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [
            "mvn",
            "-B",
            "-q",
            "--strict-checksums",
            "-f",
            str(POM),
            f"-Dmaven.repo.local={CACHE / 'm2'}",
            f"-Dbrokers.dir={CACHE}",
            "package",
        ]
        print(f"fetching Kafka {KAFKA_VERSION} and Artemis {ARTEMIS_VERSION} through Maven")
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise BrokerError(f"Maven did not finish within {FETCH_TIMEOUT_S:.0f} s") from None
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise BrokerError(f"Maven could not fetch the brokers:\n{tail}")
    if not artemis_home().exists():
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != ARTEMIS_SHA256:
            tarball.unlink()
            raise BrokerError(
                f"{tarball.name}: SHA-256 {digest} is not the pinned {ARTEMIS_SHA256}; "
                "removed it, run again to fetch it anew"
            )
        with tarfile.open(tarball) as archive:
            archive.extractall(CACHE, filter="data")
        for script in (artemis_home() / "bin").iterdir():
            script.chmod(0o755)


# --- configuration ------------------------------------------------------------------------


def _kafka_cluster_id() -> str:
    # Kafka's Uuid in its base64 form (Uuid.randomUuid never starts with '-').
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


KAFKA_LOG4J = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def kafka_node_properties(index: int, data_dir: Path, sasl_password: str) -> str:
    voters = ",".join(f"{i + 1}@{HOST}:{port}" for i, port in enumerate(KAFKA_CONTROLLER_PORTS))
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'user_{KAFKA_SASL_USER}="{sasl_password}";'
    )
    settings = {
        "process.roles": "broker,controller",
        "node.id": index + 1,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{HOST}:{KAFKA_PORTS[index]},"
        f"SASL_PLAINTEXT://{HOST}:{KAFKA_SASL_PORTS[index]},"
        f"CONTROLLER://{HOST}:{KAFKA_CONTROLLER_PORTS[index]}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{KAFKA_PORTS[index]},"
        f"SASL_PLAINTEXT://{HOST}:{KAFKA_SASL_PORTS[index]}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,"
        "CONTROLLER:PLAINTEXT",
        # Clients may authenticate with PLAIN on the SASL listener; brokers talk PLAINTEXT.
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": plain,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir),
        # Small machine: few threads and internal partitions (defaults 3/8 threads, 50 parts).
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "offsets.topic.num.partitions": 3,
        "offsets.topic.replication.factor": 3,
        "transaction.state.log.num.partitions": 3,
        "transaction.state.log.replication.factor": 3,
        "transaction.state.log.min.isr": 2,
        "share.coordinator.state.topic.num.partitions": 3,
        "share.coordinator.state.topic.replication.factor": 3,
        "share.coordinator.state.topic.min.isr": 2,
        "group.initial.rebalance.delay.ms": 0,
        "default.replication.factor": 3,
        "min.insync.replicas": 2,
        "num.partitions": 1,
        "auto.create.topics.enable": "false",
        "unclean.leader.election.enable": "false",
        # A whole-cluster stop would otherwise wait for leadership moves nobody can take.
        "controlled.shutdown.enable": "false",
        # Fence a killed broker after 3 s (default 9 s) so leadership moves within a demo run.
        "broker.session.timeout.ms": 3000,
        "broker.heartbeat.interval.ms": 500,
        "log.segment.bytes": 64 * 1024 * 1024,
        "log.retention.hours": 2,
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _java_command(classpath: str, main: str, *args: str, heap: str) -> list[str]:
    return [
        "java",
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        "-cp",
        classpath,
        main,
        *args,
    ]


def prepare_kafka(sasl_password: str) -> list[Node]:
    """Fresh storage for three KRaft nodes, formatted with the jars the brokers run."""
    classpath = kafka_classpath_file().read_text().strip()
    cluster_id = _kafka_cluster_id()
    nodes = []
    for index in range(len(KAFKA_PORTS)):
        directory = RUN / f"kafka-{index + 1}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        properties = directory / "server.properties"
        properties.write_text(kafka_node_properties(index, directory / "data", sasl_password))
        properties.chmod(0o600)  # it holds the SASL user's password
        log4j = directory / "log4j2.properties"
        log4j.write_text(KAFKA_LOG4J)
        formatted = subprocess.run(
            _java_command(
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(properties),
                heap="128m",
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if formatted.returncode != 0:
            tail = "\n".join((formatted.stdout + formatted.stderr).strip().splitlines()[-10:])
            raise BrokerError(f"kafka-{index + 1}: formatting its storage failed:\n{tail}")
        command = _java_command(
            classpath,
            "kafka.Kafka",
            str(properties),
            heap=KAFKA_HEAP,
        )
        command.insert(1, f"-Dlog4j2.configurationFile={log4j}")
        nodes.append(Node(f"kafka-{index + 1}", directory, command, directory / "console.log"))
    return nodes


def _artemis_create(directory: Path, port: int, password: str, extra: list[str]) -> None:
    command = [
        str(artemis_home() / "bin" / "artemis"),
        "create",
        str(directory),
        "--silent",
        "--force",
        "--no-web",
        "--no-autotune",
        "--nio",
        "--user",
        ARTEMIS_USER,
        "--password",
        password,
        "--require-login",
        "--host",
        HOST,
        "--default-port",
        str(port),
        "--name",
        directory.name,
        "--java-memory",
        ARTEMIS_HEAP,
        "--no-amqp-acceptor",
        "--no-hornetq-acceptor",
        "--no-mqtt-acceptor",
        "--no-stomp-acceptor",
        *extra,
    ]
    created = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if created.returncode != 0:
        tail = "\n".join((created.stdout + created.stderr).strip().splitlines()[-10:])
        raise BrokerError(f"{directory.name}: `artemis create` failed:\n{tail}")
    profile = directory / "etc" / "artemis.profile"
    # The template pairs -Xms512M with --java-memory's -Xmx: equal sizes keep the JVM startable.
    text = profile.read_text().replace("-Xms512M", f"-Xms{ARTEMIS_HEAP}")
    profile.write_text(text)
    # Read at start (Artemis "Configuration Reference": broker properties).
    (directory / "etc" / "broker.properties").write_text(
        "addressSettings.#.redistributionDelay=0\n"
        # AMQP senders without a "queue" capability would create multicast addresses.
        "addressSettings.#.defaultAddressRoutingType=ANYCAST\n"
        "addressSettings.#.defaultQueueRoutingType=ANYCAST\n"
        # The demos' disk use is small; do not block producers on a shared, nearly full disk.
        "maxDiskUsage=100\n"
    )


def _edit_broker_xml(directory: Path, old: str, new: str) -> None:
    """Replace one element of the broker.xml `artemis create` wrote; fail if it is not there."""
    path = directory / "etc" / "broker.xml"
    text = path.read_text()
    if text.count(old) != 1:
        raise BrokerError(f"{directory.name}: broker.xml has no single {old!r} to replace")
    path.write_text(text.replace(old, new))


# The pair fails back after a failover (see the module docstring).
PRIMARY_POLICY = (
    "<vote-on-replication-failure>true</vote-on-replication-failure>",
    "<vote-on-replication-failure>true</vote-on-replication-failure>\n"
    "               <check-for-active-server>true</check-for-active-server>",
)
BACKUP_POLICY = (
    "<backup/>",
    "<backup>\n"
    "               <allow-failback>true</allow-failback>\n"
    "               <restart-backup>true</restart-backup>\n"
    "            </backup>",
)


def make_tls_key(password: str) -> tuple[Path, Path]:
    """A self-signed key for the TLS acceptor (PKCS12) and its certificate as a PEM CA file."""
    keytool = shutil.which("keytool")
    if keytool is None:
        raise BrokerError("keytool not found on PATH (it comes with the JDK)")
    shutil.rmtree(TLS_DIR, ignore_errors=True)
    TLS_DIR.mkdir(parents=True)
    keystore, ca_file = TLS_DIR / "broker.p12", TLS_DIR / "ca.pem"
    common = ["-alias", "broker", "-keystore", str(keystore), "-storepass", password]
    for args in (
        [
            "-genkeypair",
            *common,
            "-storetype",
            "PKCS12",
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-validity",
            "30",
            "-dname",
            f"CN={HOST}",
            "-ext",
            f"san=ip:{HOST},dns:{HOST},dns:localhost",
        ],
        ["-exportcert", *common, "-rfc", "-file", str(ca_file)],
    ):
        made = subprocess.run(
            [keytool, *args], capture_output=True, text=True, timeout=60, check=False
        )
        if made.returncode != 0:
            tail = (made.stdout + made.stderr).strip()[-500:]
            raise BrokerError(f"keytool {args[0]} failed: {tail}")
    keystore.chmod(0o600)
    return keystore, ca_file


def _add_acceptors(directory: Path, keystore: Path, password: str) -> None:
    """The TLS acceptor and the small-credit AMQP acceptor of artemis-1."""
    tls = (
        f'<acceptor name="tls">tcp://{HOST}:{ARTEMIS_TLS_PORT}?sslEnabled=true;'
        f"keyStorePath={keystore};keyStorePassword={password};keyStoreType=PKCS12;"
        "protocols=AMQP,CORE;amqpDuplicateDetection=true</acceptor>"
    )
    flow = (
        f'<acceptor name="flow">tcp://{HOST}:{ARTEMIS_FLOW_PORT}?protocols=AMQP;'
        f"amqpCredits={FLOW_CREDITS};amqpLowCredits={max(1, FLOW_CREDITS * 3 // 10)};"
        "amqpDuplicateDetection=true</acceptor>"
    )
    _edit_broker_xml(directory, "</acceptors>", f"   {tls}\n         {flow}\n      </acceptors>")


def prepare_artemis(password: str, cluster_password: str) -> list[Node]:
    """Broker instances: three cluster nodes, then the replicated primary and its backup."""
    home = artemis_home()
    nodes = []
    cluster_common = [
        "--clustered",
        "--cluster-user",
        "advisor-cluster",
        "--cluster-password",
        cluster_password,
        "--message-load-balancing",
        "ON_DEMAND",
        "--max-hops",
        "1",
    ]
    plan = []
    for index, port in enumerate(ARTEMIS_CLUSTER_PORTS):
        others = ",".join(f"tcp://{HOST}:{p}" for p in ARTEMIS_CLUSTER_PORTS if p != port)
        plan.append((f"artemis-{index + 1}", port, [*cluster_common, "--staticCluster", others]))
    primary, backup = ARTEMIS_PAIR_PORTS
    plan.append(
        (
            "artemis-primary",
            primary,
            [*cluster_common, "--replicated", "--staticCluster", f"tcp://{HOST}:{backup}"],
        )
    )
    plan.append(
        (
            "artemis-backup",
            backup,
            [
                *cluster_common,
                "--replicated",
                "--backup",
                "--staticCluster",
                f"tcp://{HOST}:{primary}",
            ],
        )
    )
    keystore_password = secrets.token_urlsafe(12)
    keystore, _ca_file = make_tls_key(keystore_password)
    for name, port, extra in plan:
        directory = RUN / name
        shutil.rmtree(directory, ignore_errors=True)
        _artemis_create(directory, port, password, extra)
        if name == "artemis-primary":
            _edit_broker_xml(directory, *PRIMARY_POLICY)
        elif name == "artemis-backup":
            _edit_broker_xml(directory, *BACKUP_POLICY)
        elif name == "artemis-1":
            _add_acceptors(directory, keystore, keystore_password)
        env = {"ARTEMIS_HOME": str(home), "ARTEMIS_INSTANCE": str(directory)}
        nodes.append(
            Node(
                name,
                directory,
                [str(directory / "bin" / "artemis"), "run"],
                directory / "log" / "artemis.log",
                env,
            )
        )
    return nodes


# --- processes ------------------------------------------------------------------------------


def start_node(node: Node) -> int:
    """Start the node's JVM in a new process group; write and return its pid."""
    node.directory.mkdir(parents=True, exist_ok=True)
    console = node.directory / "console.log"
    env = {**os.environ, **(node.env or {})}
    with open(console, "ab") as output:
        process = subprocess.Popen(
            node.command,
            cwd=node.directory,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    node.pid_file.write_text(str(process.pid))
    return process.pid


def node_pid(node: Node) -> int | None:
    """The pid of the node's live process group leader, or None (stale pid files ignored)."""
    try:
        pid = int(node.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return None
    # A recycled pid would not run from this node's directory.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return pid  # the leader exited but the group lives on
    # The cache may sit behind a symlink (ADVISOR_BROKERS_DIR, a shared var/brokers), and
    # `artemis run` resolves its instance path: accept the directory in either spelling.
    spellings = {str(node.directory), str(node.directory.resolve())}
    if not any(spelling in cmdline for spelling in spellings) and cwd not in spellings:
        return None
    return pid


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)  # reap our own child so it does not linger as a zombie
    return bool(_group_members(pgid))


def _group_members(pgid: int) -> set[int]:
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = entry.joinpath("stat").read_text().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.add(int(entry.name))
    return members


def kill_node(node: Node, *, grace_s: float = STOP_GRACE_S, hard: bool = False) -> None:
    """SIGTERM the node's process group (SIGKILL at once when ``hard``), SIGKILL after grace."""
    pid = node_pid(node)
    if pid is None:
        node.pid_file.unlink(missing_ok=True)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL if hard else signal.SIGTERM)
    deadline = time.monotonic() + (2.0 if hard else grace_s)
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.1)
    if _group_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.1)
    if _group_alive(pid):
        raise BrokerError(f"{node.name}: process group {pid} survived SIGKILL")
    node.pid_file.unlink(missing_ok=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.strip().splitlines()[-lines:])


def _fail(node: Node, awaited: str, waited: float) -> BrokerError:
    log = node.log if node.log.exists() else node.directory / "console.log"
    return BrokerError(
        f"{node.name}: no {awaited} within {waited:.0f} s; last lines of {log}:\n{tail(log)}"
    )


def _log_count(node: Node, needle: str) -> int:
    try:
        return node.log.read_text(errors="replace").count(needle)
    except OSError:
        return 0


def wait_for_log(node: Node, needle: str, *, count: int = 1, deadline: float, awaited: str):
    started = time.monotonic()
    while _log_count(node, needle) < count:
        if node_pid(node) is None:
            raise _fail(node, f"{awaited} (the process exited)", time.monotonic() - started)
        if time.monotonic() > deadline:
            raise _fail(node, awaited, time.monotonic() - started)
        time.sleep(0.25)


# --- readiness ------------------------------------------------------------------------------


def kafka_bootstrap() -> str:
    return ",".join(f"{HOST}:{port}" for port in KAFKA_PORTS)


def check_kafka(nodes: list[Node], *, deadline: float) -> None:
    """Three brokers registered, then a round trip through a topic with three replicas."""
    from confluent_kafka import Consumer, KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    wait_for_kafka_brokers(len(nodes), nodes, deadline=deadline)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap(), "log_level": 0})
    topic = "advisor-readiness"
    futures = admin.create_topics(
        [NewTopic(topic, 1, 3, config={"min.insync.replicas": "2"})], operation_timeout=30
    )
    for future in futures.values():
        try:
            future.result(timeout=60)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise BrokerError(f"Kafka: creating the readiness topic failed: {error}") from None
    token = secrets.token_hex(8).encode()
    producer = Producer({"bootstrap.servers": kafka_bootstrap(), "acks": "all", "log_level": 0})
    delivered: list = []
    while True:
        producer.produce(topic, token, on_delivery=lambda err, msg: delivered.append(err))
        producer.flush(30)
        if delivered and delivered[-1] is None:
            break
        if time.monotonic() > deadline:
            raise _fail(nodes[0], f"acks=all write to {topic} ({delivered[-1]})", START_TIMEOUT_S)
        time.sleep(1)
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap(),
            "group.id": f"readiness-{token.decode()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "log_level": 0,
        }
    )
    try:
        consumer.subscribe([topic])
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None and message.value() == token:
                return
        raise _fail(nodes[0], f"round trip through {topic}", START_TIMEOUT_S)
    finally:
        consumer.close()


def amqp_round_trip(url: str, user: str, password: str, *, timeout: float = 20.0) -> None:
    """Send one message to a queue and receive it back over AMQP; BrokerError otherwise."""
    from proton import Message
    from proton.utils import BlockingConnection

    address = "advisor.readiness"
    token = secrets.token_hex(8)
    try:
        connection = BlockingConnection(
            url,
            timeout=timeout,
            user=user,
            password=password,
            sasl_enabled=True,
            allowed_mechs="PLAIN",
        )
    except Exception as error:  # proton raises several unrelated types
        raise BrokerError(f"AMQP connection to {url} failed: {error}") from None
    try:
        from advisor.demos.drivers.live.clients import QueueCapability

        sender = connection.create_sender(address, options=QueueCapability())
        sender.send(Message(body=token, durable=False))
        receiver = connection.create_receiver(address, options=QueueCapability())
        while True:
            message = receiver.receive(timeout=timeout)
            receiver.accept()
            if message.body == token:
                return
    except Exception as error:
        raise BrokerError(f"AMQP round trip on {url} failed: {error}") from None
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def check_artemis(nodes: list[Node], password: str, *, deadline: float) -> None:
    by_name = {node.name: node for node in nodes}
    for node in nodes:
        if node.name == "artemis-backup":
            continue
        wait_for_log(node, "AMQ221007", deadline=deadline, awaited="'Server is now active'")
    # Each cluster node bridges to the two others (AMQ221027: Bridge ... is connected).
    for index in range(len(ARTEMIS_CLUSTER_PORTS)):
        node = by_name[f"artemis-{index + 1}"]
        wait_for_log(
            node,
            "AMQ221027",
            count=len(ARTEMIS_CLUSTER_PORTS) - 1,
            deadline=deadline,
            awaited="cluster bridges connected to both other nodes",
        )
    # AMQ221024: Backup server ... is synchronized with primary server.
    wait_for_log(
        by_name["artemis-backup"],
        "AMQ221024",
        deadline=deadline,
        awaited="backup synchronized with its primary",
    )
    for port in (*ARTEMIS_CLUSTER_PORTS, ARTEMIS_PAIR_PORTS[0]):
        amqp_round_trip(f"amqp://{HOST}:{port}", ARTEMIS_USER, password)


# --- state, memory and the commands ----------------------------------------------------------


def read_state() -> dict | None:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None


def write_state(state: dict) -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    temporary = STATE_FILE.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    temporary.chmod(0o600)  # it holds the brokers' generated passwords
    temporary.replace(STATE_FILE)


def state_nodes(state: dict, cluster: str) -> list[Node]:
    return [Node.from_data(data) for data in state.get(cluster, {}).get("nodes", [])]


def find_node(state: dict, name: str) -> Node:
    for cluster in CLUSTERS:
        for node in state_nodes(state, cluster):
            if node.name == name:
                return node
    raise BrokerError(f"no broker node called {name}")


def restart_node(name: str, *, timeout_s: float = START_TIMEOUT_S) -> float:
    """Start a killed node of a local cluster again; wait until it serves; return seconds."""
    state = read_state() or {}
    node = find_node(state, name)
    began = time.monotonic()
    deadline = began + timeout_s
    if node_pid(node) is not None:
        return 0.0
    if name.startswith("artemis"):
        before = _log_count(node, "AMQ221007")
        backup = find_node(state, "artemis-backup") if name == "artemis-primary" else None
        synced = _log_count(backup, "AMQ221024") if backup is not None else 0
        start_node(node)
        wait_for_log(
            node, "AMQ221007", count=before + 1, deadline=deadline, awaited="'Server is now active'"
        )
        if backup is not None:
            # Failback (check-for-active-server): the primary synchronised from the active
            # backup and took over; the backup restarts as a replica (AMQ221039) and is in
            # sync again (AMQ221024) before the pair can take the next failover.
            wait_for_log(
                backup,
                "AMQ221024",
                count=synced + 1,
                deadline=deadline,
                awaited="backup synchronized with its primary again after failback",
            )
    else:
        start_node(node)
        wait_for_kafka_brokers(len(state_nodes(state, "kafka")), [node], deadline=deadline)
    return round(time.monotonic() - began, 1)


def wait_for_kafka_brokers(count: int, nodes: list[Node], *, deadline: float) -> None:
    """Until `count` brokers are registered; BrokerError if one of `nodes` exits first."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap(), "log_level": 0})
    seen = 0
    while time.monotonic() < deadline:
        for node in nodes:
            if node_pid(node) is None:
                raise _fail(node, "broker (the process exited)", 0)
        try:
            seen = len(admin.list_topics(timeout=5).brokers)
        except KafkaException:
            seen = 0
        if seen >= count:
            return
        time.sleep(0.5)
    raise _fail(nodes[0], f"{count} registered brokers (saw {seen})", START_TIMEOUT_S)


def rss_mib(pid: int) -> float:
    """Resident memory of a process group (all its members), in MiB."""
    total = 0
    for member in _group_members(pid) or {pid}:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def start(clusters: tuple[str, ...] = CLUSTERS) -> dict:
    """Fetch what is missing, start the chosen clusters fresh, and wait until they are ready."""
    fetch()
    state = read_state() or {}
    for cluster in clusters:
        for node in state_nodes(state, cluster):
            kill_node(node)
    RUN.mkdir(parents=True, exist_ok=True)
    if "kafka" in clusters:
        began = time.monotonic()
        sasl_password = secrets.token_urlsafe(12)
        nodes = prepare_kafka(sasl_password)
        for node in nodes:
            start_node(node)
        state["kafka"] = {
            "product": "Apache Kafka",
            "version": KAFKA_VERSION,
            "bootstrap": kafka_bootstrap(),
            "nodes": [node.to_data() for node in nodes],
            "heap": KAFKA_HEAP,
            "sasl": {
                "bootstrap": ",".join(f"{HOST}:{port}" for port in KAFKA_SASL_PORTS),
                "mechanism": "PLAIN",
                "user": KAFKA_SASL_USER,
                "password": sasl_password,
            },
        }
        write_state(state)
        check_kafka(nodes, deadline=began + START_TIMEOUT_S)
        state["kafka"]["startup_s"] = round(time.monotonic() - began, 1)
        write_state(state)
        print(
            f"Kafka {KAFKA_VERSION} ready at {kafka_bootstrap()} in {state['kafka']['startup_s']} s"
        )
    if "artemis" in clusters:
        began = time.monotonic()
        password = secrets.token_urlsafe(12)
        nodes = prepare_artemis(password, secrets.token_urlsafe(12))
        for node in nodes:
            start_node(node)
            if node.name == "artemis-primary":
                # The backup must find its primary already up to start replicating at once.
                wait_for_log(
                    node,
                    "AMQ221007",
                    deadline=began + START_TIMEOUT_S,
                    awaited="'Server is now active'",
                )
        state["artemis"] = {
            "product": "Apache ActiveMQ Artemis",
            "version": ARTEMIS_VERSION,
            "user": ARTEMIS_USER,
            "password": password,
            "cluster": [f"{HOST}:{port}" for port in ARTEMIS_CLUSTER_PORTS],
            "pair": [f"{HOST}:{port}" for port in ARTEMIS_PAIR_PORTS],
            "tls": {"address": f"{HOST}:{ARTEMIS_TLS_PORT}", "ca_file": str(TLS_DIR / "ca.pem")},
            "flow": {"address": f"{HOST}:{ARTEMIS_FLOW_PORT}", "credits": FLOW_CREDITS},
            "nodes": [node.to_data() for node in nodes],
            "heap": ARTEMIS_HEAP,
        }
        write_state(state)
        check_artemis(nodes, password, deadline=began + START_TIMEOUT_S)
        state["artemis"]["startup_s"] = round(time.monotonic() - began, 1)
        write_state(state)
        print(
            f"Artemis {ARTEMIS_VERSION} ready (cluster {', '.join(state['artemis']['cluster'])}; "
            f"primary/backup {', '.join(state['artemis']['pair'])}) "
            f"in {state['artemis']['startup_s']} s"
        )
    return state


def stop(clusters: tuple[str, ...] = CLUSTERS) -> None:
    """Stop every node of the chosen clusters (brokers' state kept for the next start)."""
    state = read_state()
    if not state:
        return
    errors = []
    for cluster in clusters:
        for node in state_nodes(state, cluster):
            try:
                kill_node(node)
            except BrokerError as error:
                errors.append(str(error))
        state.pop(cluster, None)
    write_state(state)
    if errors:
        raise BrokerError("; ".join(errors))


def status() -> list[dict]:
    """Each known node, whether it runs, and its memory."""
    state = read_state() or {}
    rows = []
    for cluster in CLUSTERS:
        for node in state_nodes(state, cluster):
            pid = node_pid(node)
            rows.append(
                {
                    "node": node.name,
                    "pid": pid,
                    "running": pid is not None,
                    "rss_mib": rss_mib(pid) if pid else 0.0,
                }
            )
    return rows


def running(cluster: str) -> bool:
    """True when the state names the cluster and every node of it runs."""
    state = read_state() or {}
    nodes = state_nodes(state, cluster)
    return bool(nodes) and all(node_pid(node) is not None for node in nodes)


def hint() -> str:
    """One line for `make run`: whether the live demos have their brokers."""
    up = [cluster for cluster in CLUSTERS if running(cluster)]
    if len(up) == len(CLUSTERS):
        state = read_state() or {}
        return (
            f"live demos: Kafka {state['kafka']['version']} at {state['kafka']['bootstrap']} "
            f"and Artemis {state['artemis']['version']} are up (`make brokers-stop` stops them)"
        )
    return (
        "live demos: the Kafka and Artemis brokers are not running; `make brokers` starts "
        "them (Java 17 and Maven needed), `make brokers-stop` stops them"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "start", "stop", "status", "hint"])
    parser.add_argument("--only", choices=CLUSTERS, help="one cluster instead of both")
    options = parser.parse_args(argv)
    clusters = (options.only,) if options.only else CLUSTERS
    try:
        if options.command == "hint":
            print(hint())
            return 0
        if options.command == "fetch":
            fetch()
        elif options.command == "start":
            try:
                start(clusters)
            except BaseException as error:
                print(f"brokers: {error}", file=sys.stderr)
                with contextlib.suppress(BrokerError):
                    stop(clusters)  # leave no half-started cluster behind
                return 1
        elif options.command == "stop":
            stop(clusters)
        for row in status() if options.command in {"start", "status"} else []:
            state = "running" if row["running"] else "stopped"
            print(f"{row['node']:16} {state:8} pid {row['pid'] or '-':>7}  {row['rss_mib']} MiB")
    except BrokerError as error:
        print(f"brokers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
