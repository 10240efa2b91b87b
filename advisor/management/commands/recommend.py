"""`python manage.py recommend ANSWERS.json|- --format json|text` (spec/questions.md)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from advisor.engine.answers import AnswersError
from advisor.engine.bank import QuestionBank, default_bank
from advisor.engine.describe import (
    describe_flip,
    describe_weight_flip,
    outcome_label,
)
from advisor.engine.scoring import Result, recommend
from advisor.engine.sides import SIDE_NAMES, SIDES
from advisor.engine.textinput import TextInputError, parse_json
from advisor.rulesets.services import NoPublishedRules, current_ruleset

TOP_REASONS = 5


class Command(BaseCommand):
    help = "Score an answers file against the current published rules and print the result."

    def add_arguments(self, parser):
        parser.add_argument("answers", help="A JSON answers file, or - for standard input.")
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def read_answers(self, source: str):
        try:
            if source == "-":
                text = sys.stdin.read()
            else:
                with open(source, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as error:
            raise CommandError(
                f"{source}: cannot be read ({error.strerror})", returncode=2
            ) from None
        try:
            return parse_json(text)
        except TextInputError as error:
            name = "standard input" if source == "-" else source
            if error.detail:  # a syntax error
                message = f"invalid JSON at line {error.line}, column {error.column}"
            else:  # too deep, a number too long, NaN: checked like every JSON from outside
                message = error.located()
            raise CommandError(f"{name}: {message}", returncode=2) from None

    def handle(self, *args, **options):
        raw = self.read_answers(options["answers"])
        try:
            _, ruleset = current_ruleset()
        except NoPublishedRules as error:
            raise CommandError(str(error), returncode=2) from None
        bank = default_bank()
        try:
            result = recommend(raw, ruleset, bank)
        except AnswersError as error:
            raise CommandError(error.first_line(), returncode=2) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(result.to_data(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_text(result, bank))


def render_text(result: Result, bank: QuestionBank) -> str:
    lines = [
        f"Recommendation: {result.recommendation} — {outcome_label(result.recommendation)}",
        f"Scores: artemis {result.scores['artemis']:g}, kafka {result.scores['kafka']:g} "
        f"(margin {result.margin:g} of 100; rules {result.ruleset})",
    ]
    if result.close_call:
        lines.append("Close call: the margin is small; see what would change it below.")
    for side, needs in result.decisive_needs.items():
        if needs:
            lines.append(
                f"Decisive needs only {SIDE_NAMES[side]} meets natively: {', '.join(needs)}"
            )
    if result.split:
        lines.append("")
        lines.append(
            "The split (Kafka with a broker at the edge):"
            if result.split.kind == "edge"
            else "The split:"
        )
        lines.append(f"  To the broker: {'; '.join(result.split.broker)}")
        lines.append(f"  To Kafka: {'; '.join(result.split.kafka)}")
        lines.append(f"  Bridge: {result.split.bridge}")
    for side in SIDES:
        reasons = [r for r in result.reasons_for(side) if r.counted][:TOP_REASONS]
        lines.append("")
        lines.append(
            f"Top reasons for {SIDE_NAMES[side]}:"
            if reasons
            else f"No rule favours {SIDE_NAMES[side]}."
        )
        for reason in reasons:
            cites = ", ".join(reason.citations)
            lines.append(f"  +{reason.points:g}  {reason.title} [{cites}]")
    refuted = [reason for reason in result.reasons if reason.refuted_by]
    if refuted:
        lines.append("")
        lines.append("Claims of the 2023 article shown with their 2026 correction (0 points):")
        lines.extend(f"  - {reason.title} [refuted by {reason.refuted_by}]" for reason in refuted)
    lines.append("")
    if result.flips or result.weight_flips:
        lines.append("What would change this:")
        lines.extend(f"  - {describe_flip(flip, bank)}" for flip in result.flips)
        lines.extend(f"  - {describe_weight_flip(flip)}" for flip in result.weight_flips[:3])
    else:
        lines.append("No single answer or weight change would alter this recommendation.")
    return "\n".join(lines)
