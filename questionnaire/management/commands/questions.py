"""`python manage.py questions --format json`: the question bank for scripts."""

import json

from django.core.management.base import BaseCommand

from advisor.engine.bank import Question, QuestionBank, default_bank


def question_to_data(question: Question) -> dict:
    return {
        "id": question.id,
        "section": question.section,
        "kind": question.kind,
        "text": question.text,
        "help": question.help,
        "values": list(question.values),
        "options": [
            {"value": option.value, "label": option.label, "explanation": option.explanation}
            for option in question.options
        ],
        "default": question.default,
        "shown_when": question.shown_when.to_data() if question.shown_when else None,
        "exclusive": question.exclusive,
        "optional": question.optional,
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def bank_markdown(bank: QuestionBank) -> str:
    """docs/questions.md: every question id and value, generated from the bank.

    A test keeps the file equal to this output (`manage.py questions --format markdown`).
    """
    lines = [
        "# The question bank",
        "",
        "Generated from the question bank by",
        "`python manage.py questions --format markdown > docs/questions.md`; a test keeps the",
        f"two in step. Bank version {bank.version}.",
        "",
        "Answers files map question ids to values. An *optional* question may be left out:",
        "its default applies, and no default of an optional question moves a score, so every",
        "answers file valid before it existed stays valid.",
        "",
    ]
    for section in bank.sections:
        lines += [f"## {section.title} (`{section.id}`)", "", section.intro, ""]
        lines += ["| id | kind | values | default | shown when |", "|---|---|---|---|---|"]
        for question in bank.in_section(section.id):
            values = "<br>".join(
                f"`{json.dumps(option.value)}` {_cell(option.label)}" for option in question.options
            )
            kind = question.kind + (", optional" if question.optional else "")
            shown = (
                f"`{json.dumps(question.shown_when.to_data())}`"
                if question.shown_when
                else "always"
            )
            lines.append(
                f"| `{question.id}`<br>{_cell(question.text)} | {kind} | {values} "
                f"| `{json.dumps(question.default)}` | {shown} |"
            )
        lines.append("")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the question bank: ids, kinds, values, shown-when, defaults and sections."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "text", "markdown"], default="text")

    def handle(self, *args, **options):
        bank = default_bank()
        if options["format"] == "json":
            data = {
                "version": bank.version,
                "sections": [
                    {"id": s.id, "title": s.title, "intro": s.intro} for s in bank.sections
                ],
                "questions": [question_to_data(question) for question in bank.questions],
            }
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        if options["format"] == "markdown":
            self.stdout.write(bank_markdown(bank), ending="")
            return
        for section in bank.sections:
            self.stdout.write(f"\n{section.title}")
            for question in bank.in_section(section.id):
                values = " | ".join(json.dumps(value) for value in question.values)
                self.stdout.write(f"  {question.id} ({question.kind}): {question.text}")
                self.stdout.write(f"      {values}; default {json.dumps(question.default)}")
