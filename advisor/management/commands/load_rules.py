from django.core.management.base import BaseCommand, CommandError

from advisor.engine.datafiles import DataFileError
from advisor.engine.rules import DEFAULT_RULES_PATH
from advisor.rulesets.services import ruleset_load_default


class Command(BaseCommand):
    help = "Load the default rules file as the first published RuleSet (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_RULES_PATH), help="A rules file.")

    def handle(self, *args, **options):
        try:
            ruleset, created = ruleset_load_default(path=options["file"])
        except DataFileError as error:
            raise CommandError(str(error)) from None
        if created:
            count = ruleset.rules.count()
            self.stdout.write(f"Loaded {count} rules as published ruleset {ruleset.version}.")
        else:
            self.stdout.write(f"Rules already loaded; the current ruleset is {ruleset.version}.")
