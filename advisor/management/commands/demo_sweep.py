"""`python manage.py demo_sweep`: mark demo runs stuck past their limits as failed.

Celery beat runs the same sweep every minute where beat runs; `make run` has none, so
cron this, or rely on the pages, which sweep when a run they show looks stuck.
"""

from django.core.management.base import BaseCommand

from advisor.demoruns.services import demo_run_sweep


class Command(BaseCommand):
    help = "Mark demo runs whose worker died, or that outlived their time limit, as failed."

    def handle(self, *args, **options):
        swept = demo_run_sweep()
        self.stdout.write(f"Marked {swept} stuck demo run{'s' if swept != 1 else ''} as failed.")
