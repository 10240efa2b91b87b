"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

from advisor.demoruns.worker import PeriodicSweep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("messaging_advisor")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in each part's tasks module (advisor/demoruns/tasks.py), not in app roots.
app.autodiscover_tasks(["advisor.demoruns"])
# Demo workers sweep stuck runs themselves (advisor/demoruns/worker.py): no beat needed.
app.steps["worker"].add(PeriodicSweep)
