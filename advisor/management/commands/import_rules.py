"""`manage.py import_rules rules.json`: a rules file as a new draft, to preview and publish."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from advisor.engine.datafiles import DataFileError
from advisor.rulesets.services import rules_file_parse, ruleset_import

UNKNOWN_USER = "no user '{username}'"


class Command(BaseCommand):
    help = "Import a rules file as a new draft ruleset (validated like the default rules)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A rules file, e.g. one export_rules wrote.")
        parser.add_argument("--user", help="Record this username as the draft's author.")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(UNKNOWN_USER.format(username=options["user"]))
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror})") from None
        try:
            data = rules_file_parse(content, name=path.name)
            draft = ruleset_import(data=data, user=user, name=path.name)
        except DataFileError as error:
            raise CommandError(str(error)) from None
        impact_url = reverse("admin:advisor_ruleset_impact", args=[draft.pk])
        self.stdout.write(
            f"Imported {draft.rules.count()} rules as draft {draft.version}. "
            f"Preview its impact and publish it in the admin: {impact_url}"
        )
