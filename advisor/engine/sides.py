"""The two sides the advisor weighs, the verdicts it can give, and their names in words.

Every page, export and command names a side from here, each wording for its place.
"""

from __future__ import annotations

ARTEMIS, KAFKA, HYBRID = "artemis", "kafka", "hybrid"
SIDES = (ARTEMIS, KAFKA)
OUTCOMES = (ARTEMIS, KAFKA, HYBRID)

# The verdict as a heading: "A message broker (Apache ActiveMQ Artemis; ...)".
OUTCOME_NAMES = {
    ARTEMIS: "A message broker",
    KAFKA: "An event-streaming platform",
    HYBRID: "Both, each for its role",
}
OUTCOME_PRODUCTS = {
    ARTEMIS: "Apache ActiveMQ Artemis; Red Hat AMQ Broker",
    KAFKA: "Apache Kafka; Red Hat Streams for Apache Kafka",
    HYBRID: "Apache ActiveMQ Artemis and Apache Kafka, bridged",
}
# The options an ADR considers.
OPTION_TITLES = {
    ARTEMIS: "A message broker: Apache ActiveMQ Artemis (Red Hat AMQ Broker)",
    KAFKA: "An event-streaming platform: Apache Kafka (Red Hat Streams for Apache Kafka)",
    HYBRID: "Both, each for its role, bridged (Kafka Connect, Apache Camel or an edge broker)",
}
# Inside a sentence ("Top reasons for the broker (Artemis)"), a list heading, a form label,
# and a table cell.
SIDE_NAMES = {ARTEMIS: "the broker (Artemis)", KAFKA: "Kafka"}
SIDE_TITLES = {ARTEMIS: "For a message broker (Artemis)", KAFKA: "For event streaming (Kafka)"}
SIDE_LABELS = {ARTEMIS: "Message broker (Artemis)", KAFKA: "Event streaming (Kafka)"}
SIDE_SHORT_NAMES = {ARTEMIS: "broker", KAFKA: "Kafka"}


def other_side(side: str) -> str:
    return KAFKA if side == ARTEMIS else ARTEMIS
