"""The five demo scenarios of ``spec/tradeoffs.md`` and their parameters, with safe bounds.

Bounds keep a run within seconds on one worker and its files within a few hundred MiB;
``validate_parameters`` enforces them for the form, the API and ``demo_run --param``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Error messages are constants so that callers and tests can refer to them.
UNKNOWN_SCENARIO = "'{name}' is not a demo scenario; known scenarios: {known}"
UNKNOWN_PARAMETER = "'{name}' is not a parameter of {scenario}; known parameters: {known}"
NOT_A_NUMBER = "expected {kind} between {minimum} and {maximum}{unit}, got {value!r}"
OUT_OF_BOUNDS = "must be between {minimum} and {maximum}{unit}, got {value}"
TOO_MANY_BYTES = (
    "must be at most {allowed} with message_size {size} (each side writes at most {cap_mib} MiB)"
)
TOO_LONG = "must be at most {allowed} with {other} {other_value} (a side may take {limit} s)"

# Files one side of a run may write, and the time one side's workload may be planned for.
MAX_BYTES_PER_SIDE = 256 * 1024 * 1024
MAX_SECONDS_PER_SIDE = 30


class ParameterError(ValueError):
    """A parameter that does not fit its scenario; ``field`` names it (None: the scenario)."""

    def __init__(self, field: str | None, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    kind: str  # "int" or "float"
    default: int | float
    minimum: int | float
    maximum: int | float
    unit: str
    help: str

    def coerce(self, value: object) -> int | float:
        """The value as this parameter's kind, within bounds, or a ParameterError."""
        unit = f" {self.unit}" if self.unit else ""
        bounds = {"minimum": self.minimum, "maximum": self.maximum, "unit": unit}
        try:
            number = _to_number(value, self.kind)
        except (TypeError, ValueError):
            message = NOT_A_NUMBER.format(kind=_kind_words(self.kind), value=value, **bounds)
            raise ParameterError(self.name, message) from None
        if not self.minimum <= number <= self.maximum:
            raise ParameterError(self.name, OUT_OF_BOUNDS.format(value=number, **bounds))
        return number


@dataclass(frozen=True)
class Display:
    """What a run's page shows for a scenario: its charts, in reading order, and their words.

    ``counts`` picks the rows of the counts chart out of a run's metrics; the demo-run
    pages draw whatever a scenario declares here, so a new scenario edits only this file.
    """

    latency_metric: str  # "publish_latency_ms" (the ack) or "end_to_end_latency_ms"
    # None: no latency chart, where the simulation's own delays would be read as the
    # products' (kill-and-restart pauses, an in-process queue against a file).
    latency_caption: str | None
    counts: Callable[[Mapping], list[tuple[str, dict[str, float]]]]
    counts_caption: str = "What was counted"
    counts_unit: str = ""  # " ms" when the counts chart shows latencies
    # Charts after counts and latency: "nodes" (throughput by cluster size), "rate", "backlog".
    more_charts: tuple[str, ...] = ("rate", "backlog")
    backlog_caption: str = "Backlog over time (messages)"
    # Over-time charts against each side's own run (0-100 %) instead of seconds, where
    # one side finishes so much sooner that its curve would be a sliver at the left.
    time_as_share: bool = False
    # Sentences shown beside the charts where this machine limits what they can show.
    caveats: Callable[[Mapping], list[str]] = field(
        default=lambda metrics: [], compare=False, repr=False
    )


def _durability_caveats(metrics: Mapping) -> list[str]:
    broker = metrics["sides"]["broker"]
    target = metrics.get("parameters", {}).get("target_rate", 0)
    if target and broker.get("publish_rate", 0) >= 0.9 * target:
        return [
            f"The broker side kept up with the target rate of {target:,} msgs/s here, so "
            "both sides' publish rates look alike: this disk syncs faster than that. The cost "
            "of syncing shows in the ack latency; raise the target rate (or set 0, as fast "
            "as each side acks) to see it in the rates too."
        ]
    return []


def _clustering_caveats(metrics: Mapping) -> list[str]:
    cpus = metrics.get("machine", {}).get("cpu_count") or 0
    nodes = metrics.get("parameters", {}).get("nodes", 0)
    caveats = []
    findings = metrics.get("findings", {})
    if metrics.get("engine") == "live" and "artemis_nodes" in findings:
        # Live: the probes used the nodes the clusters have, at most ``nodes``.
        nodes = max(findings["artemis_nodes"], findings.get("kafka_brokers", 0))
        if findings.get("nodes_requested", nodes) > nodes:
            caveats.append(f"{findings['nodes_note'][0].upper()}{findings['nodes_note'][1:]}.")
    if cpus and nodes > cpus:
        caveats.append(
            f"This machine has {cpus} CPU{'s' if cpus != 1 else ''} for {nodes} node processes, "
            "so past {cpus} nodes the nodes share them and throughput falls for both designs "
            "alike: a limit of this machine, not of either product. The latency by hop count "
            "is what this demo shows.".replace("{cpus}", str(cpus))
        )
    return caveats


# The live engine measures more than two settings in some scenarios (Artemis non-durable and
# failover on a replicated pair, Kafka acks=1 and acks=0 beside the headline sides).
SIDE_ORDER = (
    "broker",
    "broker_failover",
    "broker_nondurable",
    "log",
    "log_acks1",
    "log_acks0",
    "naive",
)


def side_names(metrics: Mapping) -> list[str]:
    """The sides a run measured, in display order."""
    return [side for side in SIDE_ORDER if side in metrics.get("sides", {})]


def _counted(*rows: tuple[str, str]) -> Callable[[Mapping], list[tuple[str, dict[str, float]]]]:
    """Rows of (label, metric key): each side's value of that key, where the side has it."""

    def counts(metrics: Mapping) -> list[tuple[str, dict[str, float]]]:
        sides = metrics["sides"]
        return [
            (label, {side: sides[side][key] for side in side_names(metrics) if key in sides[side]})
            for label, key in rows
        ]

    return counts


def _late_consumer_reads(metrics: Mapping) -> list[tuple[str, dict[str, float]]]:
    reads = {side: metrics["sides"][side]["late_consumer_reads"] for side in side_names(metrics)}
    count = max((len(values) for values in reads.values()), default=0)
    return [
        (
            f"Read by late consumer {index + 1}",
            {side: values[index] for side, values in reads.items() if index < len(values)},
        )
        for index in range(count)
    ]


def _latency_by_hops(metrics: Mapping) -> list[tuple[str, dict[str, float]]]:
    hops = metrics["sides"]["broker"].get("latency_by_hops", {})
    leader = metrics["sides"]["log"].get("latency_by_leader_node", {})
    rows = []
    for hop in sorted(hops, key=int):
        values = {"broker": hops[hop]["p50"]}
        if hop in leader:
            values["log"] = leader[hop]["p50"]
        rows.append((f"Node {hop}: {hop} hops / leader", values))
    return rows


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    claims: tuple[str, ...]
    shows: str
    parameters: tuple[Parameter, ...]
    broker_model: str
    log_model: str
    display: Display
    # Upper limits on ``messages`` that depend on other parameters (bytes and time per side),
    # each with the message explaining it.
    messages_limits: Callable[[dict], list[tuple[int, str]]] = field(
        default=lambda parameters: [], compare=False, repr=False
    )
    # Whether the target rate starts from the assessment's throughput answer.
    rate_from_answers: bool = True

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.parameters}


def _kind_words(kind: str) -> str:
    return "a whole number" if kind == "int" else "a number"


def _to_number(value: object, kind: str) -> int | float:
    if isinstance(value, bool):  # True is an int in Python, never a sensible parameter
        raise TypeError(value)
    if isinstance(value, str):
        value = value.strip()
    if kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        if isinstance(value, str):
            number = float(value)  # accepts "1e3" and "100.0"; rejects "abc"
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if isinstance(value, int):
            return value
        raise TypeError(value)
    if isinstance(value, int | float | str):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(value)
        return number
    raise TypeError(value)


# --- the parameters ------------------------------------------------------------------------

SEED = Parameter(
    "seed",
    "Random seed",
    "int",
    1,
    0,
    2**31 - 1,
    "",
    "Seeds the random crash moments and kill points, so a run can be repeated.",
)


def _message_size(default: int, maximum: int) -> Parameter:
    return Parameter(
        "message_size",
        "Message size",
        "int",
        default,
        16,
        maximum,
        "bytes",
        "Payload bytes per message (from the assessment's message size).",
    )


def _messages(default: int, minimum: int, maximum: int, help_text: str) -> Parameter:
    return Parameter("messages", "Messages", "int", default, minimum, maximum, "", help_text)


def _bytes_limit(parameters: dict) -> tuple[int, str]:
    size = parameters["message_size"]
    allowed = MAX_BYTES_PER_SIDE // size
    cap_mib = MAX_BYTES_PER_SIDE // (1024 * 1024)
    return allowed, TOO_MANY_BYTES.format(allowed=allowed, size=size, cap_mib=cap_mib)


def _rate_limit(parameters: dict) -> tuple[int, str] | None:
    rate = parameters.get("target_rate", 0)
    if rate <= 0:
        return None
    allowed = int(rate * MAX_SECONDS_PER_SIDE)
    message = TOO_LONG.format(
        allowed=allowed, other="target_rate", other_value=rate, limit=MAX_SECONDS_PER_SIDE
    )
    return allowed, message


def _processing_limit(parameters: dict) -> tuple[int, str] | None:
    processing_s = parameters["processing_ms"] / 1000
    if processing_s <= 0:
        return None
    allowed = int(MAX_SECONDS_PER_SIDE / processing_s)
    message = TOO_LONG.format(
        allowed=allowed,
        other="processing_ms",
        other_value=parameters["processing_ms"],
        limit=MAX_SECONDS_PER_SIDE,
    )
    return allowed, message


def _limits(*limit_functions: Callable[[dict], tuple[int, str] | None]):
    """Upper limits on ``messages`` that depend on other parameters (bytes, time)."""

    def limits(parameters: dict) -> list[tuple[int, str]]:
        found = (function(parameters) for function in limit_functions)
        return [limit for limit in found if limit is not None]

    return limits


SCENARIOS: dict[str, Scenario] = {
    "durability": Scenario(
        name="durability",
        title="Durability: fsync before the ack vs the page cache",
        claims=("T4", "M2"),
        shows=(
            "Syncing each message to disk before acknowledging it costs throughput and latency "
            "but loses nothing acknowledged in a crash; acknowledging from the page cache is "
            "far faster but leaves acknowledged messages at risk until the next flush."
        ),
        parameters=(
            _message_size(1024, 1024 * 1024),
            _messages(10_000, 100, 100_000, "Messages each side appends and acknowledges."),
            Parameter(
                "target_rate",
                "Target rate",
                "int",
                # Above what a disk syncs one message at a time (about 6,800/s on the ext4
                # of DESIGN.md), so the cost of syncing shows in the rates at the defaults.
                20_000,
                0,
                1_000_000,
                "msgs/s",
                "Fixed rate the load generator aims at; 0 sends as fast as each side acks.",
            ),
            Parameter(
                "flush_interval_ms",
                "Flush interval",
                "int",
                100,
                1,
                10_000,
                "ms",
                "Log side: how often a background flush syncs the page cache to disk "
                "(Kafka's flush.ms; unset by default, leaving it to the OS).",
            ),
            SEED,
        ),
        broker_model="Appends each message to a journal file and fdatasyncs it before the ack "
        "(Artemis journal-sync, journal-datasync).",
        log_model="Appends each message to a segment file in the page cache and acks at once; "
        "a background thread fdatasyncs every flush interval.",
        messages_limits=_limits(_bytes_limit, _rate_limit),
        display=Display(
            latency_metric="publish_latency_ms",
            latency_caption="Ack latency (publish to acknowledgement)",
            counts=_counted(
                ("Acked, not on disk at the crash", "acked_not_durable_at_crash"),
                ("Most acked, not on disk at once", "max_acked_not_durable"),
            ),
            backlog_caption="Acknowledged but not yet on disk, over time",
            caveats=_durability_caveats,
            time_as_share=True,
        ),
        # The answers' throughput is the workload's, not a rate that shows the cost of syncing.
        rate_from_answers=False,
    ),
    "exactly_once": Scenario(
        name="exactly_once",
        title="Exactly-once: who enforces it when consumers crash",
        claims=("T2", "T3", "M1"),
        shows=(
            "Consumers killed with SIGKILL mid-processing produce no duplicates and no losses "
            "when the server deduplicates or when the consumer commits its offset with its "
            "result in one transaction; a naive at-least-once consumer repeats work."
        ),
        parameters=(
            _messages(1_000, 10, 20_000, "Messages produced, each with a unique id."),
            Parameter(
                "kills",
                "Kills per consumer",
                "int",
                8,
                0,
                100,
                "",
                "How many times each consumer process is killed with SIGKILL at a random "
                "point of its processing (drawn from the seed) and restarted.",
            ),
            _message_size(256, 64 * 1024),
            SEED,
        ),
        broker_model="A broker over loopback TCP redelivers unacknowledged messages and drops "
        "repeated results by duplicate id (Artemis _AMQ_DUPL_ID).",
        log_model="The consumer commits each result and its next offset in one SQLite "
        "transaction, and resumes from that offset.",
        display=Display(
            latency_metric="end_to_end_latency_ms",
            # No latency chart: it would time the kill-and-restart pauses of this simulation
            # (a killed consumer restarts in a new process), not either product.
            latency_caption=None,
            counts=_counted(("Duplicates processed", "duplicates"), ("Messages lost", "losses")),
        ),
    ),
    "push_pull": Scenario(
        name="push_pull",
        title="Push vs pull: what a slow consumer does to each",
        claims=("T1",),
        shows=(
            "A push broker with a prefetch window holds a bounded backlog and slows the producer "
            "once its buffer is full; a pulled log lets the producer run at its own pace while "
            "the slow consumer's backlog and latency grow."
        ),
        parameters=(
            _messages(1_000, 50, 20_000, "Messages the producer sends."),
            Parameter(
                "target_rate",
                "Target rate",
                "int",
                1_000,
                10,
                20_000,
                "msgs/s",
                "Fixed rate the producer aims at.",
            ),
            Parameter(
                "processing_ms",
                "Processing time",
                "float",
                2.0,
                0.0,
                100.0,
                "ms",
                "Time the slow consumer spends on each message.",
            ),
            Parameter(
                "prefetch",
                "Prefetch window",
                "int",
                50,
                1,
                1_000,
                "msgs",
                "Push: messages the broker sends ahead of the consumer's acks.",
            ),
            Parameter(
                "broker_buffer",
                "Broker buffer",
                "int",
                200,
                1,
                10_000,
                "msgs",
                "Push: messages the broker queues before flow control blocks the producer.",
            ),
            Parameter(
                "batch_size",
                "Pull batch",
                "int",
                100,
                1,
                1_000,
                "msgs",
                "Pull: most messages the consumer fetches per poll.",
            ),
            _message_size(1024, 64 * 1024),
        ),
        broker_model="A broker thread over loopback TCP pushes to the consumer up to the "
        "prefetch window and blocks producers when its buffer is full.",
        log_model="A log server over loopback TCP appends everything; the consumer polls "
        "batches from its offset when it is ready.",
        messages_limits=_limits(_rate_limit, _processing_limit),
        display=Display(
            latency_metric="end_to_end_latency_ms",
            latency_caption="End-to-end latency (send to processed)",
            counts=_counted(("Largest backlog (messages)", "max_backlog")),
            backlog_caption="Backlog over time (sent, not yet processed)",
        ),
    ),
    "clustering": Scenario(
        name="clustering",
        title="Clustering: the cluster routes vs clients go to the leader",
        claims=("T5",),
        shows=(
            "When the cluster forwards a message from the producer's node to the consumer's, "
            "every hop adds latency; clients that connect to the partition leader pay none."
        ),
        parameters=(
            Parameter(
                "nodes",
                "Nodes",
                "int",
                4,
                2,
                6,
                "",
                "Node processes in the cluster, linked by loopback TCP.",
            ),
            _messages(200, 20, 5_000, "Latency probes per hop count."),
            Parameter(
                "target_rate",
                "Probe rate",
                "int",
                1_000,
                10,
                5_000,
                "msgs/s",
                "Fixed rate of the latency probes.",
            ),
            Parameter(
                "throughput_messages",
                "Throughput messages",
                "int",
                5_000,
                100,
                50_000,
                "",
                "Messages sent as fast as possible per cluster size to measure throughput.",
            ),
            _message_size(1024, 64 * 1024),
        ),
        broker_model="Producer on node 0, consumer on node k: the nodes forward the message "
        "hop by hop (0..N-1 hops).",
        log_model="Producer and consumer connect straight to the node leading the partition.",
        messages_limits=_limits(_rate_limit),
        display=Display(
            latency_metric="end_to_end_latency_ms",
            latency_caption="End-to-end latency at the farthest node",
            counts=_latency_by_hops,
            counts_caption="Latency by hop count (p50): forwarded vs leader",
            counts_unit=" ms",
            # Fixed-rate probes: rate and backlog over time would show nothing.
            more_charts=("nodes",),
            caveats=_clustering_caveats,
        ),
    ),
    "replay": Scenario(
        name="replay",
        title="Replay: a consumer that joins late",
        claims=("T2", "T8"),
        shows=(
            "On a queue, consuming is destructive, so a consumer that joins late finds the "
            "consumed messages gone; on a log it re-reads everything from offset 0."
        ),
        parameters=(
            _messages(5_000, 10, 100_000, "Messages produced before the late consumers join."),
            Parameter(
                "consumed_percent",
                "Consumed before joining",
                "int",
                100,
                0,
                100,
                "%",
                "Share of the messages the first consumer has processed when the others join.",
            ),
            Parameter(
                "late_consumers",
                "Late consumers",
                "int",
                2,
                1,
                5,
                "",
                "Consumers (independent readers) that join late (from consumer groups).",
            ),
            _message_size(1024, 64 * 1024),
        ),
        broker_model="A queue in SQLite: receiving a message deletes it (destructive consume).",
        log_model="An append-only segment file; each consumer keeps its own offset.",
        messages_limits=_limits(_bytes_limit),
        display=Display(
            latency_metric="end_to_end_latency_ms",
            # No latency chart: the first consumer reads a SQLite queue against a flat file
            # here, a difference of this model, not of a broker against a log.
            latency_caption=None,
            counts=_late_consumer_reads,
            counts_caption="Messages each late consumer could still read",
        ),
    ),
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except (KeyError, TypeError):
        known = ", ".join(SCENARIOS)
        raise ParameterError(None, UNKNOWN_SCENARIO.format(name=name, known=known)) from None


def validate_parameters(scenario_name: str, raw: Mapping[str, object]) -> dict:
    """Parameters for a run: defaults filled in, strings coerced, bounds enforced.

    Raises :class:`ParameterError` naming the field and its allowed range for an unknown
    name, a value that is not a number or one out of bounds; an unknown scenario raises it
    with ``field=None``.
    """
    scenario = get_scenario(scenario_name)
    for name in raw:
        if scenario.parameter(name) is None:
            known = ", ".join(p.name for p in scenario.parameters)
            message = UNKNOWN_PARAMETER.format(name=name, scenario=scenario.name, known=known)
            raise ParameterError(name, message)
    parameters = {}
    for parameter in scenario.parameters:
        value = raw.get(parameter.name)
        if value is None or value == "":
            parameters[parameter.name] = parameter.default
        else:
            parameters[parameter.name] = parameter.coerce(value)
    for allowed, message in scenario.messages_limits(parameters):
        if parameters["messages"] > allowed:
            raise ParameterError("messages", message)
    return parameters


# --- defaults from the questionnaire ------------------------------------------------------

# Demo-safe stand-ins for the questionnaire's ranges (a "large" message is capped at 1 MiB).
MESSAGE_SIZES = {"small": 1024, "medium": 64 * 1024, "large": 1024 * 1024}
# Target rates the machine can drive; above this it can only go "as fast as possible".
TARGET_RATES = {"lt_1k": 1_000, "1k_100k": 10_000, "100k_1m": 0, "gt_1m": 0}
LATE_CONSUMERS = {"one": 1, "few": 3, "many": 5}
NODES = {"single": 2, "cluster": 3, "multi_site": 5}


def parameters_from_answers(scenario_name: str, answers: Mapping[str, object]) -> dict:
    """Default parameters reflecting an assessment's answers, always within bounds.

    Unknown or missing answers fall back to the scenario defaults; values are clamped to
    each parameter's bounds and to the cross-parameter limits (bytes and time per side).
    """
    scenario = get_scenario(scenario_name)
    wanted: dict = {}
    size = MESSAGE_SIZES.get(answers.get("message_size"))  # type: ignore[arg-type]
    rate = TARGET_RATES.get(answers.get("throughput"))  # type: ignore[arg-type]
    if size is not None:
        wanted["message_size"] = size
    if rate is not None and scenario.rate_from_answers:
        wanted["target_rate"] = rate
    late = LATE_CONSUMERS.get(answers.get("consumer_groups"))  # type: ignore[arg-type]
    if late is not None:
        wanted["late_consumers"] = late
    nodes = NODES.get(answers.get("topology"))  # type: ignore[arg-type]
    if nodes is not None:
        wanted["nodes"] = nodes

    parameters = scenario.defaults()
    for name, value in wanted.items():
        parameter = scenario.parameter(name)
        if parameter is None:
            continue
        if name == "target_rate" and value == 0 and parameter.minimum > 0:
            value = parameter.maximum  # "as fast as possible" where 0 is not allowed
        parameters[name] = min(parameter.maximum, max(parameter.minimum, value))
    messages = scenario.parameter("messages")
    for allowed, _message in scenario.messages_limits(parameters):
        parameters["messages"] = max(messages.minimum, min(allowed, parameters["messages"]))
    return parameters
