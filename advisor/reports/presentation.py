"""What the recommendation page shows, built from a report's stored snapshot.

The page reads only the snapshot (answers, result, ruleset version), so a report
looks the same today as the day it was shared.
"""

from __future__ import annotations

from advisor.charts import contribution_chart, dimension_chart
from advisor.engine.bank import default_bank
from advisor.engine.describe import (
    describe_flip,
)
from advisor.engine.knowledge import citations, starting_configuration_data
from advisor.engine.scoring import Flip
from advisor.engine.sides import OUTCOME_NAMES, OUTCOME_PRODUCTS, SIDE_NAMES, SIDE_TITLES, SIDES
from advisor.reports.models import Report
from advisor.reports.services import report_rescore
from advisor.rulesets.models import RuleSet


def report_starting_configuration(report: Report) -> dict[str, list[dict]]:
    """The starting configuration of the report's snapshot (computed for older reports)."""
    stored = report.result.get("starting_configuration")
    if stored is not None:
        return stored
    return starting_configuration_data(
        report.answers, report.result["recommendation"], default_bank()
    )


def answers_by_section(answers: dict) -> list[dict]:
    bank = default_bank()
    sections = []
    for section in bank.sections:
        rows = [
            {"question": question, "answer": question.label_for(answers[question.id])}
            for question in bank.in_section(section.id)
            if question.id in answers
        ]
        if rows:
            sections.append({"section": section, "rows": rows})
    return sections


def recommendation_context(report: Report) -> dict:
    """Everything the recommendation template needs, from the report's snapshot."""
    bank = default_bank()
    result = report.result
    rule_titles = {reason["rule"]: reason["title"] for reason in result["reasons"]}

    reasons = {
        side: [
            {
                **reason,
                "cited": citations(reason["citations"]),
                "explains_title": rule_titles.get(reason.get("explains", ""), ""),
            }
            for reason in result["reasons"]
            if reason["favours"] == side and not reason.get("refuted_by")
        ]
        for side in SIDES
    }
    refuted = [
        {
            **reason,
            "cited": citations(reason["citations"]),
        }
        for reason in result["reasons"]
        if reason.get("refuted_by")
    ]
    flips = [
        describe_flip(Flip(flip["question"], flip["to"], flip["recommendation"]), bank)
        for flip in result["flips"]
        if flip["question"] in bank.by_id
    ]
    dimension_titles = {d["id"]: d["title"] for d in report.ruleset.dimensions}
    recommendation = result["recommendation"]
    return {
        "report": report,
        "result": result,
        "recommendation": recommendation,
        "outcome_name": OUTCOME_NAMES[recommendation],
        "outcome_products": OUTCOME_PRODUCTS[recommendation],
        "side_names": SIDE_NAMES,
        "side_titles": SIDE_TITLES,
        "reasons": reasons,
        "refuted": refuted,
        "split": result.get("split"),
        "decisive": {
            side: [rule_titles.get(rule, rule) for rule in rules]
            for side, rules in result["decisive_needs"].items()
        },
        "flips": flips,
        "starting_configuration": report_starting_configuration(report),
        "answers_by_section": answers_by_section(report.answers),
        "dimension_chart": dimension_chart(result["dimensions"], dimension_titles),
        "contribution_chart": contribution_chart(
            # what moved the score: not a refuted claim, not a fact already counted
            [r for r in result["reasons"] if r.get("counted", True) and not r.get("refuted_by")]
        ),
        "close_call_margin": report.ruleset.close_call_margin,
        "current_ruleset": RuleSet.objects.current(),
    }


def rescore_context(report: Report, *, back_url: str) -> dict:
    """Old and new verdicts and scores side by side, with the rules whose points moved."""
    current, result = report_rescore(report=report)
    context = {"report": report, "back_url": back_url, "current": current}
    if result is None:
        return context
    old = report.result
    new = result.to_data()
    old_points = {reason["rule"]: reason for reason in old["reasons"]}
    new_points = {reason["rule"]: reason for reason in new["reasons"]}
    changes = []
    for rule in sorted(set(old_points) | set(new_points)):
        before, after = old_points.get(rule), new_points.get(rule)
        if before and after and before["points"] == after["points"]:
            continue
        changes.append(
            {
                "rule": rule,
                "title": (after or before)["title"],
                "favours": (after or before)["favours"],
                "old": before["points"] if before else 0,
                "new": after["points"] if after else 0,
            }
        )
    changes.sort(key=lambda change: -abs(change["new"] - change["old"]))
    context.update(
        {
            "old": old,
            "new": new,
            "old_name": OUTCOME_NAMES[old["recommendation"]],
            "new_name": OUTCOME_NAMES[new["recommendation"]],
            "verdict_changed": old["recommendation"] != new["recommendation"],
            "changes": changes,
        }
    )
    return context
