"""Exports of a report: JSON (the `recommend` shape plus metadata) and a MADR-style ADR.

Both are built only from the report's snapshot, so they never change after the
report is made, whatever rules are published later.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from advisor.engine.bank import default_bank
from advisor.engine.knowledge import tradeoffs
from advisor.engine.sides import (
    OPTION_TITLES,
    OUTCOME_NAMES,
    OUTCOME_PRODUCTS,
    OUTCOMES,
    SIDES,
    other_side,
)
from advisor.reports.models import Report
from advisor.reports.presentation import report_starting_configuration
from advisor.reports.sections import report_sections, sections_export
from advisor.templatetags.advisor_tags import lower_first

TOP = 5


def report_json(report: Report) -> dict:
    """The `recommend` command's JSON (the stored result) plus metadata and demo runs."""
    return {
        **report.result,
        "starting_configuration": report_starting_configuration(report),
        "report": {
            "id": str(report.pk),
            "title": report.title,
            "created_at": report.created_at.isoformat(),
            "ruleset_version": report.ruleset.version,
            "question_bank_version": report.bank_version,
        },
        **sections_export(report),
    }


def report_json_text(report: Report) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# An ADR's words for a side: as a sentence's subject, and inside a sentence.
ADR_SIDE_NAMES = {"artemis": "The broker", "kafka": "Kafka"}
ADR_SIDE_SUBJECTS = {"artemis": "the broker", "kafka": "Kafka"}
ADR_CONFIG_TITLES = {"artemis": "The broker (Artemis)", "kafka": "Kafka"}
PROS_PER_OPTION = 8
HYBRID_GOOD = "each platform takes the flows it is built for, as the split says"
HYBRID_BAD = (
    "two platforms and the bridge between them must be run, secured, monitored and upgraded"
)


def _counted(reasons: list[dict]) -> list[dict]:
    """Reasons that carry points: not refuted, not explained by a stronger rule of a group."""
    return [r for r in reasons if r.get("counted", True) and not r.get("refuted_by")]


def _con(reason: dict, other_name: str) -> str:
    """A con that keeps to the facts: only a decisive need is one this option cannot meet;
    any other reason is served better by the other option (its caveat may say how)."""
    cites = ", ".join(reason["citations"])
    title = lower_first(reason["title"])
    if reason.get("decisive"):
        return f"it cannot meet this need natively: {title} ({cites})"
    return f"{other_name} serves this need better: {title} ({cites})"


def _source_link(citation: str, entry) -> str:
    if settings.SITE_URL:
        return f"{settings.SITE_URL}{reverse('advisor:tradeoffs')}#{citation}"
    return entry.links[0].url if entry.links else ""


def report_adr_markdown(report: Report, *, report_path: str = "") -> str:
    """An Architecture Decision Record in the MADR layout, from the report's snapshot.

    Links are absolute: to this site only when SITE_URL is configured (the report's own
    page through `report_path`, the trade-offs page), else to each claim's source.
    """
    bank = default_bank()
    result = report.result
    outcome = result["recommendation"]
    counted = _counted(result["reasons"])
    by_side = {side: [r for r in counted if r["favours"] == side] for side in SIDES}
    drivers = [
        {"question": question.text, "answer": question.label_for(report.answers[question.id])}
        for section in bank.sections
        for question in bank.in_section(section.id)
        if question.id in report.answers
        # an optional question left at its neutral default drove nothing
        and not (question.optional and report.answers[question.id] == question.default)
    ]
    because = [r for r in counted if outcome == "hybrid" or r["favours"] == outcome]
    # the decisive needs first: they bind the verdict
    because = sorted(because, key=lambda r: not r.get("decisive"))[:TOP]
    decisive = [
        {
            "side_name": ADR_SIDE_NAMES[reason["favours"]],
            "title": reason["title"],
            "citations": reason["citations"],
        }
        for reason in result["reasons"]
        if reason["rule"] in result.get("decisive_needs", {}).get(reason["favours"], [])
    ]
    flips = [
        {
            "question": bank.by_id[flip["question"]].text,
            "answer": bank.by_id[flip["question"]].label_for(flip["to"]),
            "recommendation": flip["recommendation"],
        }
        for flip in result.get("flips", [])
        if flip["question"] in bank.by_id
    ]
    options = []
    for option in OUTCOMES:
        if option not in SIDES:
            good, bad = [HYBRID_GOOD], [HYBRID_BAD]
        else:
            other = other_side(option)
            good = [
                f"{lower_first(r['why'])} ({', '.join(r['citations'])})"
                for r in by_side[option][:PROS_PER_OPTION]
            ]
            bad = [_con(r, ADR_SIDE_SUBJECTS[other]) for r in by_side[other][:PROS_PER_OPTION]]
        options.append({"id": option, "title": OPTION_TITLES[option], "good": good, "bad": bad})
    chosen = next(option for option in options if option["id"] == outcome)
    consequences = {"good": chosen["good"][:4], "bad": chosen["bad"][:4]}
    split = result.get("split")
    if split and split["kind"] == "hybrid":
        consequences["good"] = [
            f"the broker keeps what only it meets natively or best: {'; '.join(split['broker'])}",
            f"Kafka keeps what only it meets natively or best: {'; '.join(split['kafka'])}",
        ]
        consequences["bad"] = [
            HYBRID_BAD,
            f"the flows between them depend on the bridge: {split['bridge']}",
        ]
    elif split:
        consequences["bad"].append(
            "an edge broker for the devices or partners, and its bridge into Kafka, must be run "
            "beside Kafka"
        )
    configuration = [
        {
            "title": ADR_SIDE_NAMES[side] + (" (Artemis)" if side == "artemis" else ""),
            "lines": lines,
        }
        for side, lines in report_starting_configuration(report).items()
    ]
    known = tradeoffs()
    cited = {c for r in result["reasons"] for c in r["citations"]}
    cited |= {c for side in configuration for line in side["lines"] for c in line["citations"]}
    cited |= {"M8", "M12"}  # the consequences and the context cite them
    if result.get("split"):
        cited |= {"M9", "M13"}
    sections = [
        {"template": section.adr_template, "data": section.export(report)}
        for section in report_sections()
        if section.adr_template
    ]
    context = {
        "report": report,
        "result": result,
        "outcome": outcome,
        "outcome_name": OUTCOME_NAMES[outcome].lower(),
        "outcome_products": OUTCOME_PRODUCTS[outcome],
        "chosen_title": OPTION_TITLES[outcome],
        "because": because,
        "drivers": drivers,
        "options": options,
        "decisive": decisive,
        "split": result.get("split"),
        "consequences": consequences,
        "flips": flips,
        "weight_flips": result.get("weight_flips", [])[:3],
        "close_call_margin": f"{report.ruleset.close_call_margin:g}",
        "configuration": configuration,
        "caveats": [r for r in counted if r.get("caveat")],
        "refuted": [r for r in result["reasons"] if r.get("refuted_by")],
        "sections": sections,
        "report_link": f"{settings.SITE_URL}{report_path}"
        if settings.SITE_URL and report_path
        else "",
        "sources": [
            {"id": c, "entry": known[c], "link": _source_link(c, known[c])}
            for c in sorted(cited, key=lambda c: (c[0] != "T", int(c[1:])))
            if c in known
        ],
    }
    text = render_to_string("reports/adr.md", context)
    # Templates leave blank runs where a block is empty: keep at most one blank line.
    lines = [line.rstrip() for line in text.splitlines()]
    tidy = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(tidy).strip() + "\n"
