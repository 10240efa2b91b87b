"""`manage.py serve`: the web server, a Celery worker and, if needed, a local Redis.

`make run` calls this after set-up. Ctrl-C stops everything it started.
"""

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from advisor.devserver.localredis import RedisUnavailable, redis_reachable, start_local_redis

BASE_DIR = settings.BASE_DIR


class Command(BaseCommand):
    help = "Run the web server with a Celery worker; start a local Redis when none answers."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        # One demo at a time: two runs side by side would skew each other's figures.
        parser.add_argument("--concurrency", default="1", help="Celery worker processes.")

    def handle(self, *args, **options):
        processes: list[tuple[str, subprocess.Popen]] = []
        url = settings.CELERY_BROKER_URL
        if redis_reachable(url):
            self.stdout.write(f"Redis: using the one at {url}")
        else:
            try:
                processes.append(("redis-server", start_local_redis(url)))
            except RedisUnavailable as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Redis: none answered at {url}; started a local redis-server")

        processes.append(
            (
                "celery worker",
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--loglevel=INFO",
                        f"--concurrency={options['concurrency']}",
                        # An embedded beat sweeps runs whose worker died (CELERY_BEAT_SCHEDULE).
                        "--beat",
                        f"--schedule={Path(tempfile.gettempdir()) / 'advisor-celerybeat'}",
                    ],
                    cwd=BASE_DIR,
                ),
            )
        )
        address = f"{options['host']}:{options['port']}"
        processes.append(
            (
                "web server",
                subprocess.Popen([sys.executable, "manage.py", "runserver", address], cwd=BASE_DIR),
            )
        )
        self.stdout.write(f"Messaging Advisor: http://{address}/  (Ctrl-C stops it)")
        if not get_user_model().objects.filter(is_staff=True).exists():
            self.stdout.write(
                "No admin account yet. To edit rule weights, create one with:\n"
                "    .venv/bin/python manage.py createsuperuser\n"
                f"then sign in at http://{address}/admin/"
            )

        def stop(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)  # also when started in the background (SIGINT ignored)
        try:
            while True:
                for name, process in processes:
                    if process.poll() is not None:
                        raise CommandError(f"the {name} exited (code {process.returncode})")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping...")
        finally:
            for _, process in reversed(processes):
                if process.poll() is None:
                    process.terminate()
            for _, process in reversed(processes):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
