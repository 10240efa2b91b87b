"""`python manage.py questions --format json`: the question bank for scripts."""

import json

from django.core.management.base import BaseCommand

from advisor.engine.bank import Question, default_bank


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
    }


class Command(BaseCommand):
    help = "Print the question bank: ids, kinds, values, shown-when, defaults and sections."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "text"], default="text")

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
        for section in bank.sections:
            self.stdout.write(f"\n{section.title}")
            for question in bank.in_section(section.id):
                values = " | ".join(json.dumps(value) for value in question.values)
                self.stdout.write(f"  {question.id} ({question.kind}): {question.text}")
                self.stdout.write(f"      {values}; default {json.dumps(question.default)}")
