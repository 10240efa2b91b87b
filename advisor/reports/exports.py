"""Exports of a report: JSON (the `recommend` shape plus metadata) and a MADR-style ADR.

Both are built only from the report's snapshot, so they never change after the
report is made, whatever rules are published later.
"""

from __future__ import annotations

import json

from django.template.loader import render_to_string

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
from advisor.reports.sections import report_sections, sections_export

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
        **sections_export(report),
    }


def report_json_text(report: Report) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def report_adr_markdown(report: Report, *, tradeoffs_url: str = "") -> str:
    """An Architecture Decision Record in the MADR layout, from the report's snapshot."""
    bank = default_bank()
    result = report.result
    outcome = result["recommendation"]
    reasons = {side: [r for r in result["reasons"] if r["favours"] == side] for side in SIDES}
    drivers = [
        {"question": question.text, "answer": question.label_for(report.answers[question.id])}
        for section in bank.sections
        for question in bank.in_section(section.id)
        if question.id in report.answers
    ]
    top = [r for r in result["reasons"] if outcome == "hybrid" or r["favours"] == outcome][:TOP]
    decisive = [
        {"side": side, "titles": [r["title"] for r in reasons[side] if r["rule"] in rules]}
        for side, rules in result.get("decisive_needs", {}).items()
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
        other = other_side(option) if option in SIDES else None
        options.append(
            {
                "id": option,
                "title": OPTION_TITLES[option],
                "good": [] if other is None else reasons[option],
                "bad": [] if other is None else reasons[other],
            }
        )
    known = tradeoffs()
    cited = sorted(
        {c for r in result["reasons"] for c in r["citations"]}, key=lambda c: (c[0] != "T", c)
    )
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
        "because": top,
        "drivers": drivers,
        "options": options,
        "decisive": decisive,
        "flips": flips,
        "caveats": [r for r in result["reasons"] if r.get("caveat")],
        "sections": sections,
        "sources": [
            {"id": c, "entry": known[c], "link": f"{tradeoffs_url}#{c}" if tradeoffs_url else ""}
            for c in cited
            if c in known
        ],
    }
    text = render_to_string("reports/adr.md", context)
    # Templates leave blank runs where a block is empty: keep at most one blank line.
    lines = [line.rstrip() for line in text.splitlines()]
    tidy = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(tidy).strip() + "\n"
