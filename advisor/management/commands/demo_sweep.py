"""`python manage.py demo_sweep`: fail demo runs stuck past their limits, re-send lost ones.

Every demo worker runs the same sweep when it starts and every DEMO_RUN_SWEEP_INTERVAL
seconds, and pages sweep when a run they show looks stuck: this is for when no worker runs.
"""

from django.core.management.base import BaseCommand

from advisor.demoruns.services import demo_run_sweep


class Command(BaseCommand):
    help = "Mark demo runs whose worker died, or that outlived their time limit, as failed."

    def handle(self, *args, **options):
        swept = demo_run_sweep()
        self.stdout.write(
            f"Marked {swept} stuck demo run{'s' if swept != 1 else ''} as failed or sent again."
        )
