"""Exports of a report: JSON (the `recommend` shape plus metadata) and a MADR-style ADR.

Both are built only from the report's snapshot, so they never change after the
report is made, whatever rules are published later.
"""

from __future__ import annotations

import json

from advisor.demo_presentation import demo_runs_export
from advisor.engine.describe import OUTCOME_NAMES, OUTCOME_PRODUCTS
from advisor.knowledge import tradeoffs
from advisor.models import Report
from questionnaire.bank import default_bank

OPTION_TITLES = {
    "artemis": "A message broker: Apache ActiveMQ Artemis (Red Hat AMQ Broker)",
    "kafka": "An event-streaming platform: Apache Kafka (Red Hat Streams for Apache Kafka)",
    "hybrid": "Both, each for its role, bridged (Kafka Connect JMS connectors or Apache Camel)",
}
TOP = 5


def report_json(report: Report) -> dict:
    """The `recommend` command's JSON (the stored result) plus metadata and demo runs."""
    return {
        **report.result,
        "report": {
            "id": str(report.pk),
            "title": report.title,
            "created_at": report.created_at.isoformat(),
            "ruleset_version": report.ruleset.version,
            "question_bank_version": report.bank_version,
        },
        "demo_runs": demo_runs_export(report.assessment),
    }


def report_json_text(report: Report) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


PROPER_NOUNS = {"Kafka", "Kafka's", "Artemis", "JMS", "XA", "AMQP", "MQTT", "Strimzi", "A"}


def lower_first(text: str) -> str:
    """'The broker writes…' -> 'the broker writes…', keeping names such as Kafka."""
    first, _, rest = text.partition(" ")
    if first in PROPER_NOUNS - {"A"} or (len(first) > 1 and first.isupper()):
        return text
    return f"{first[:1].lower()}{first[1:]} {rest}".rstrip()


def _bullets(lines) -> list[str]:
    return [f"* {line}" for line in lines]


def report_adr_markdown(report: Report, *, tradeoffs_url: str = "") -> str:
    """An Architecture Decision Record in the MADR layout, from the report's snapshot."""
    bank = default_bank()
    result = report.result
    outcome = result["recommendation"]
    reasons = {
        side: [r for r in result["reasons"] if r["favours"] == side]
        for side in ("artemis", "kafka")
    }
    known = tradeoffs()
    title = report.title or "Messaging platform"
    lines = [
        f"# {title}: {OUTCOME_NAMES[outcome].lower()} ({OUTCOME_PRODUCTS[outcome]})",
        "",
        "* Status: proposed",
        f"* Date: {report.created_at.date().isoformat()}",
        f"* Decided with: Messaging Advisor, rules {report.ruleset.version}, "
        f"question bank {report.bank_version}",
        "",
        "## Context and Problem Statement",
        "",
        "We must choose how our systems exchange messages: a message broker (Apache ActiveMQ "
        "Artemis; Red Hat AMQ Broker), an event-streaming platform (Apache Kafka; Red Hat "
        "Streams for Apache Kafka), or both. The two follow different models for different "
        "jobs (T8): a broker takes responsibility for delivering each message it is handed "
        "(T2, T7); Kafka keeps a log of events that consumers read at their own pace (T1, T2).",
        "",
        "## Decision Drivers",
        "",
    ]
    drivers = []
    for section in bank.sections:
        for question in bank.in_section(section.id):
            if question.id in report.answers:
                answer = question.label_for(report.answers[question.id])
                drivers.append(f"{question.text} **{answer}**")
    lines += _bullets(drivers)
    lines += ["", "## Considered Options", ""]
    lines += _bullets(OPTION_TITLES[option] for option in ("artemis", "kafka", "hybrid"))
    lines += ["", "## Decision Outcome", ""]
    top = [r for r in result["reasons"] if outcome == "hybrid" or r["favours"] == outcome][:TOP]
    because = "; ".join(f"{lower_first(r['title'])} ({', '.join(r['citations'])})" for r in top)
    lines.append(f'Chosen option: "{OPTION_TITLES[outcome]}", because {because}.')
    lines.append("")
    lines.append(
        f"Scores: broker {result['scores']['artemis']}, Kafka {result['scores']['kafka']} "
        f"(points of 100; margin {result['margin']})."
    )
    if outcome == "hybrid":
        lines.append("")
        lines.append("Each side holds a need the other cannot meet natively:")
        for side, rules in result.get("decisive_needs", {}).items():
            titles = [r["title"] for r in reasons[side] if r["rule"] in rules]
            lines += _bullets(f"{'Broker' if side == 'artemis' else 'Kafka'}: {t}" for t in titles)
    elif result.get("close_call"):
        lines.append("")
        lines.append(
            "This is a close call: the margin is small, and the changes below would alter it."
        )
    if result.get("flips"):
        lines += ["", "### What would change this decision", ""]
        for flip in result["flips"]:
            question = bank.by_id.get(flip["question"])
            if question is None:
                continue
            answer = question.label_for(flip["to"])
            lines.append(
                f"* If the answer to “{question.text}” were **{answer}**, "
                f"the recommendation would be {flip['recommendation']}."
            )
    lines += ["", "## Pros and Cons of the Options", ""]
    for option in ("artemis", "kafka", "hybrid"):
        lines += [f"### {OPTION_TITLES[option]}", ""]
        if option == "hybrid":
            lines.append("* Good, because each platform does what it is built for.")
            lines.append("* Bad, because two platforms and a bridge must be run and monitored.")
        else:
            other = "kafka" if option == "artemis" else "artemis"
            for reason in reasons[option]:
                cites = ", ".join(reason["citations"])
                lines.append(f"* Good, because {lower_first(reason['why'])} ({cites})")
            for reason in reasons[other]:
                cites = ", ".join(reason["citations"])
                need = lower_first(reason["title"])
                lines.append(f"* Bad, because it does not meet this need: {need} ({cites})")
            if not reasons[option] and not reasons[other]:
                lines.append("* Neutral: no rule fired for either side.")
        lines.append("")
    caveats = [r for r in result["reasons"] if r.get("caveat")]
    if caveats:
        lines += ["### Caveats", ""]
        lines += _bullets(f"{r['title']}: {r['caveat']}" for r in caveats)
        lines.append("")
    runs = demo_runs_export(report.assessment)
    if runs:
        lines += ["### Measured on our machine (demo runs)", ""]
        lines += _bullets(f"`{run['scenario']}`: {run['summary']}" for run in runs)
        lines.append("")
    lines += ["## More Information", ""]
    cited = sorted(
        {c for r in result["reasons"] for c in r["citations"]}, key=lambda c: (c[0] != "T", c)
    )
    for citation in cited:
        entry = known.get(citation)
        if entry is None:
            continue
        link = f"{tradeoffs_url}#{citation}" if tradeoffs_url else citation
        lines.append(f"* [{citation}]({link}) {entry.title}: {entry.text} Source: {entry.source}.")
    return "\n".join(lines).rstrip() + "\n"
