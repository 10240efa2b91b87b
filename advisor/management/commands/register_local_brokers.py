"""`python manage.py register_local_brokers`: the clusters `make brokers` started, as targets.

Creates or updates the targets "local Kafka" and "local Artemis" (enabled, marked local) from
the brokers' state file, with the generated Artemis password; prints no secret. Exits 1 with
one line when the brokers are not running.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from advisor.demoruns.models import BrokerTarget
from advisor.demos.drivers.live.targets import ARTEMIS, KAFKA, local_targets

NAMES = {KAFKA: "local Kafka", ARTEMIS: "local Artemis"}


class Command(BaseCommand):
    help = "Register the local Kafka and Artemis clusters of `make brokers` as live targets."

    def handle(self, *args, **options):
        found = local_targets()
        if not found:
            self.stderr.write("error: the local brokers are not running (`make brokers`)")
            sys.exit(1)
        for product, target in found.items():
            row, created = BrokerTarget.objects.update_or_create(
                name=NAMES[product],
                defaults={
                    "product": product,
                    "addresses": ",".join(target.addresses),
                    "version": target.version,
                    "username": target.user,
                    "password": target.password,
                    "tls": False,
                    "enabled": True,
                    "local": True,
                },
            )
            row.full_clean()
            verb = "registered" if created else "updated"
            self.stdout.write(f"{verb} {row.name}: {row.addresses}")
