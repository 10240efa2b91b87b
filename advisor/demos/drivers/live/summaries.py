"""Turning send and receive logs of the live runs into OMB-shaped side metrics."""

from __future__ import annotations

from advisor.demos.drivers.live.clients import ReceiveLog, SendLog
from advisor.demos.metrics import (
    LatencyHistogram,
    level_series,
    rate,
    rate_series,
    side_metrics,
    warmup_count,
)


def _measured_ids(log: SendLog) -> list[int]:
    ids = sorted(log.acked, key=lambda ident: log.acked[ident])
    return ids[warmup_count(len(ids)) :]


def send_side_metrics(
    log: SendLog,
    *,
    label: str,
    model: str,
    target_rate: float,
    received: ReceiveLog | None = None,
    **counts: object,
) -> dict:
    """Publish rate and latency from acks; consume rate and end-to-end from ``received``."""
    measured = _measured_ids(log)
    publish_latency, send_delay, end_to_end = LatencyHistogram(), LatencyHistogram(), None
    for ident in measured:
        publish_latency.record((log.acked[ident] - log.sent[ident]) * 1e9)
        if target_rate > 0 and ident in log.intended:
            send_delay.record((log.sent[ident] - log.intended[ident]) * 1e9)
    if target_rate <= 0:
        send_delay.record(0)
    ack_times = sorted(log.acked.values())
    # From the first measured send to the last ack: acks that arrive in one batch (Kafka
    # batches) would otherwise make the window tiny and the rate absurd.
    first = log.sent[measured[0]] if measured else 0.0
    last = ack_times[-1] if ack_times else 0.0
    start = min(log.sent.values()) if log.sent else 0.0
    meaning = {
        "end_to_end_latency_ms": "here the same as the publish latency: no consumer ran "
        "during the sends; what survived was read back afterwards",
        "backlog": "messages sent but not yet acknowledged",
    }
    consume_rate = rate(len(measured), last - first)
    if received is not None and received.ids:
        end_to_end = received_latency(received)
        consume_rate = rate(len(received.ids), received.received[-1] - received.received[0])
        meaning = {"backlog": "messages sent but not yet received"}
    metrics = side_metrics(
        label=label,
        model=model,
        publish_rate=rate(len(measured), last - first),
        consume_rate=consume_rate,
        publish_latency=publish_latency,
        end_to_end_latency=end_to_end or publish_latency,
        backlog=level_series(
            sorted(log.sent.values()),
            sorted(received.received) if received is not None else ack_times,
            start,
            max(last, received.received[-1] if received and received.received else last),
        ),
        publish_rate_series=rate_series(ack_times, start, last),
        send_delay=send_delay,
        acked=len(log.acked),
        warmup_messages=len(log.acked) - len(measured),
        meaning=meaning,
        **counts,
    )
    return metrics


def received_latency(received: ReceiveLog) -> LatencyHistogram:
    """End-to-end latency from the send stamp each message carried (same host clock)."""
    histogram = LatencyHistogram()
    samples = [
        received.received[i] * 1e9 - sent
        for i, sent in enumerate(received.sent_ns)
        if sent > 0 and i < len(received.received)
    ]
    for value in samples[warmup_count(len(samples)) :]:
        histogram.record(value)
    return histogram
