"""Exactly-once on the real products: consumer processes SIGKILLed at seeded points.

Input: ``messages`` ids to an Artemis queue (durable, ``_AMQ_DUPL_ID`` on each, and every
tenth sent twice as a producer retry would: the broker must store it once) and to a Kafka
topic (idempotent producer). Three consumer processes (eo_worker) each process everything
while being killed ``kills`` times at seeded points (before the side effect, between the
side effect and the commit/ack, after the commit) and restarted:

- broker: Artemis transacted consumption: each result sent and its input accepted in one AMQP
  local transaction; a kill before the commit rolls both back and the input is redelivered
  (results carry no duplicate id: the transaction alone keeps them single);
- log: Kafka transactions: result and input offset committed together, read_committed;
- naive: Kafka at-least-once: result produced, then the offset committed.

Duplicates and losses are counted from the stored results. The run also checks that a
``read_committed`` consumer never sees records of an aborted transaction.
Sources: Artemis "Duplicate Message Detection" and "AMQP" (local transactions); AMQP 1.0
part 4 "Transactions" (declare, transactional send and accept, discharge); KIP-98
(transactions, fencing by transactional.id) and KIP-447; Kafka consumer ``isolation.level``.
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict

from advisor.demos.drivers.live.clients import (
    AmqpProducer,
    amqp_drain,
    kafka_create_topic,
    kafka_delete_topics,
    kafka_produce,
    kafka_read_all,
)
from advisor.demos.drivers.live.summaries import send_side_metrics
from advisor.demos.drivers.live.targets import Target
from advisor.demos.errors import DriverError

WORKER = "advisor.demos.drivers.live.eo_worker"
POINTS = ("before_effect", "after_effect", "after_commit")
IDLE_S = 3.0
WORKER_TIME_LIMIT_S = 120.0
ABORTED_RECORDS = 20
SETTINGS = {
    "artemis": {
        "duplicate detection": "_AMQ_DUPL_ID on the input (amqpDuplicateDetection)",
        "producer retries": "every tenth input message sent twice",
        "consumer": "transacted: credit 1, result sent and input accepted in one AMQP local "
        "transaction, then committed",
    },
    "kafka": {
        "producer": "enable.idempotence=true, acks=all",
        "transactional consumer": "read_committed, send_offsets_to_transaction, "
        "transactional.id kept across restarts",
        "naive consumer": "result produced, then offset committed (at-least-once)",
    },
}


def kill_plan(seed: int, messages: int, kills: int) -> list[tuple[int, str]]:
    """(processed messages in that life, point) per kill; one always between effect and ack."""
    rng = random.Random(seed)
    if kills == 0:
        return []
    per_life = max(1, messages // (kills + 1))
    plan = [(rng.randint(1, per_life), rng.choice(POINTS)) for _ in range(kills)]
    plan[0] = (plan[0][0], "after_effect")
    return plan


def _target_data(target: Target) -> dict:
    data = asdict(target)
    data["addresses"] = list(target.addresses)
    data["failover"] = list(target.failover)
    data["node_names"] = list(target.node_names)
    return data


def _consume_with_kills(settings: dict, plan, context, label: str) -> dict:
    kills_done, lives, processed = 0, 0, 0
    received: collections.Counter = collections.Counter()
    deadline = time.monotonic() + WORKER_TIME_LIMIT_S * (len(plan) + 1)
    while True:
        context.check_cancel()
        if time.monotonic() > deadline:
            raise DriverError(f"{label}: the consumer did not finish within its time limit")
        die_after, die_point = plan[kills_done] if kills_done < len(plan) else (0, "")
        payload = json.dumps({**settings, "die_after": die_after, "die_point": die_point})
        lives += 1
        try:
            done = subprocess.run(
                [sys.executable, "-m", WORKER],
                input=payload,
                capture_output=True,
                text=True,
                timeout=WORKER_TIME_LIMIT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DriverError(
                f"{label}: a consumer process hung past {WORKER_TIME_LIMIT_S} s"
            ) from None
        processed += done.stdout.count("done ")
        received.update(
            int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("got ")
        )
        context.progress(
            min(0.95, processed / max(1, settings["messages"])), f"{label}: {processed}"
        )
        if done.returncode == -9 and die_after:
            kills_done += 1
            continue
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise DriverError(f"{label}: the consumer exited with status {done.returncode}: {tail}")
        redelivered = sum(count - 1 for count in received.values())
        return {
            "lives": lives,
            "kills": kills_done,
            "processed": processed,
            "redelivered": redelivered,
        }


def _count(results: list[int], messages: int) -> tuple[int, int]:
    counts = collections.Counter(results)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    losses = sum(1 for ident in range(messages) if ident not in counts)
    return duplicates, losses


def _aborted_transaction(target: Target, topic: str) -> dict:
    """Records of an aborted transaction as read_committed and read_uncommitted see them."""
    from confluent_kafka import Producer

    producer = Producer(
        target.kafka_config(
            **{"transactional.id": f"advisor-abort-{topic}", "enable.idempotence": True}
        )
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for ident in range(ABORTED_RECORDS):
        producer.produce(topic, b"aborted", key=str(ident).encode())
    producer.flush(30)
    producer.abort_transaction(30)
    committed = kafka_read_all(target, topic, isolation="read_committed", idle_s=2)
    uncommitted = kafka_read_all(target, topic, isolation="read_uncommitted", idle_s=2)
    return {
        "records": ABORTED_RECORDS,
        "seen_by_read_committed": len(committed.ids),
        "seen_by_read_uncommitted": len(uncommitted.ids),
    }


def run(parameters: dict, context, targets: dict[str, Target]) -> dict:
    kafka, artemis = targets["kafka"], targets["artemis"]
    messages, kills = parameters["messages"], parameters["kills"]
    payload = os.urandom(parameters["message_size"])
    run_id = f"{int(time.time())}-{os.getpid()}"
    plan = kill_plan(parameters["seed"], messages, kills)
    sides, findings = {}, {"kill_plan": [list(k) for k in plan]}

    context.progress(0.0, "Artemis: producing with duplicate ids and retries")
    queue_in, queue_out = f"advisor.eo.in.{run_id}", f"advisor.eo.out.{run_id}"
    producer = AmqpProducer(
        artemis,
        artemis.amqp_url(0),
        queue_in,
        messages=messages,
        payload=payload,
        durable=True,
        target_rate=0,
        duplicate_ids=True,
        repeat_every=10,
    )
    sent_artemis = producer.run()
    findings["broker_producer_retries"] = producer.repeats_sent
    common = {"idle_s": IDLE_S, "messages": messages}
    consumed = _consume_with_kills(
        {
            **common,
            "mode": "artemis",
            "target": _target_data(artemis),
            "input": queue_in,
            "output": queue_out,
        },
        plan,
        context.phase(0.05, 0.35),
        "Artemis consumer",
    )
    results = amqp_drain(artemis, artemis.amqp_url(0), queue_out).ids
    duplicates, losses = _count(results, messages)
    sides["broker"] = send_side_metrics(
        sent_artemis,
        label="Artemis: transacted consumer",
        model="result sent and input accepted in one local transaction; a kill before the "
        "commit rolls both back and the input is redelivered",
        target_rate=0,
        duplicates=duplicates,
        losses=losses,
        consumer_lives=consumed["lives"],
        kills=consumed["kills"],
    )
    findings["broker"] = {
        **consumed,
        "results": len(results),
        "duplicates": duplicates,
        "losses": losses,
    }

    topic_in, topic_abort = f"advisor-eo-in-{run_id}", f"advisor-eo-abort-{run_id}"
    out_tx, out_naive = f"advisor-eo-out-tx-{run_id}", f"advisor-eo-out-naive-{run_id}"
    topics = [topic_in, topic_abort, out_tx, out_naive]
    for topic in topics:
        kafka_create_topic(kafka, topic)
    try:
        context.progress(0.4, "Kafka: idempotent producer")
        sent_kafka = kafka_produce(
            kafka,
            topic_in,
            messages=messages,
            payload=payload,
            target_rate=0,
            producer_config={"acks": "all", "enable.idempotence": True, "linger.ms": 5},
        )
        for key, mode, output, label, low in (
            ("log", "kafka_tx", out_tx, "Kafka transactional consumer", 0.45),
            ("naive", "kafka_naive", out_naive, "Kafka at-least-once consumer", 0.7),
        ):
            consumed = _consume_with_kills(
                {
                    **common,
                    "mode": mode,
                    "target": _target_data(kafka),
                    "input": topic_in,
                    "output": output,
                    "group": f"advisor-eo-{mode}-{run_id}",
                    "transactional_id": f"advisor-eo-{mode}-{run_id}",
                },
                plan,
                context.phase(low, low + 0.25),
                label,
            )
            isolation = "read_committed" if mode == "kafka_tx" else "read_uncommitted"
            results = kafka_read_all(kafka, output, isolation=isolation, idle_s=2).ids
            duplicates, losses = _count(results, messages)
            sides[key] = send_side_metrics(
                sent_kafka,
                label=label,
                model=SETTINGS["kafka"][
                    "transactional consumer" if key == "log" else "naive consumer"
                ],
                target_rate=0,
                duplicates=duplicates,
                losses=losses,
                consumer_lives=consumed["lives"],
                kills=consumed["kills"],
            )
            findings[key] = {
                **consumed,
                "results": len(results),
                "duplicates": duplicates,
                "losses": losses,
            }
        context.progress(0.95, "Kafka: an aborted transaction")
        findings["aborted_transaction"] = _aborted_transaction(kafka, topic_abort)
    finally:
        kafka_delete_topics(kafka, topics)
    return {"sides": sides, "findings": findings, "summary": _summary(findings)}


def _summary(findings: dict) -> str:
    def counts(key: str) -> str:
        return f"{findings[key]['duplicates']:,} duplicates, {findings[key]['losses']:,} lost"

    aborted = findings["aborted_transaction"]
    return (
        f"With consumers SIGKILLed {findings['broker']['kills']} times each: Artemis "
        f"transacted consumer {counts('broker')} ({findings['broker']['redelivered']:,} "
        f"redelivered after a rollback; producer retries stored once by _AMQ_DUPL_ID); Kafka "
        f"transactions {counts('log')}; Kafka "
        f"at-least-once {counts('naive')}. read_committed saw "
        f"{aborted['seen_by_read_committed']} of {aborted['records']} aborted records "
        f"(read_uncommitted: {aborted['seen_by_read_uncommitted']}) (T2, T3, M1)."
    )
