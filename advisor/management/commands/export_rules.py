"""`manage.py export_rules v2 -o rules-v2.json`: a ruleset as a rules file, for review."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisor.rulesets.models import RuleSet
from advisor.rulesets.services import ruleset_export

UNKNOWN_VERSION = "no ruleset '{version}'; there are: {versions}"


class Command(BaseCommand):
    help = "Write a ruleset as a rules file in the format of advisor/data/rules.json."

    def add_arguments(self, parser):
        parser.add_argument("version", help="The ruleset's version id, such as v2.")
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")

    def handle(self, *args, **options):
        ruleset = RuleSet.objects.filter(version=options["version"]).first()
        if ruleset is None:
            versions = ", ".join(RuleSet.objects.order_by("pk").values_list("version", flat=True))
            raise CommandError(
                UNKNOWN_VERSION.format(version=options["version"], versions=versions or "none")
            )
        text = ruleset_export(ruleset=ruleset)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {ruleset.version} ({ruleset.state}) to {options['output']}")
        else:
            self.stdout.write(text, ending="")
