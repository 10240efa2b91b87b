"""`manage.py serve`: the web server, a Celery worker and, if needed, a local Redis.

`make run` calls this after set-up. Ctrl-C stops everything it started.
"""

import os
import signal
import subprocess
import sys
import time

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
        # Checks once here (silent when all is well): the web server's own are skipped below.
        self.check()
        self.check_migrations()
        processes: list[tuple[str, subprocess.Popen]] = []

        def stop(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)  # also when started in the background (SIGINT ignored)
        try:
            started = self.start(processes, options)
            self.stdout.write("\n".join(started))
            while True:
                for name, process in processes:
                    if process.poll() is not None:
                        raise CommandError(f"the {name} exited (code {process.returncode})")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping...")
        finally:
            # Also when starting failed half-way: nothing started here outlives the command.
            for _, process in reversed(processes):
                if process.poll() is None:
                    process.terminate()
            for _, process in reversed(processes):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def start(self, processes: list[tuple[str, subprocess.Popen]], options) -> list[str]:
        """Start Redis (when none answers), the worker and the web server; say what runs."""
        url = settings.CELERY_BROKER_URL
        if redis_reachable(url):
            redis_line = f"  Redis        the one already answering at {url}"
        else:
            try:
                processes.append(("redis-server", start_local_redis(url)))
            except RedisUnavailable as error:
                raise CommandError(str(error)) from None
            redis_line = f"  Redis        none answered at {url}: started a local redis-server"
        quiet = {
            **os.environ,
            # Celery warns about running as root because a root worker that accepts pickle
            # could be made to run code; this app's Celery accepts JSON only
            # (CELERY_ACCEPT_CONTENT), and Celery itself refuses pickle as root.
            "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
            # Printed once below, with where to open the app, instead of on every reload.
            "DJANGO_RUNSERVER_HIDE_WARNING": "true",
        }
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
                        "--quiet",  # no banner
                        "worker",
                        "--loglevel=WARNING",
                        f"--queues={settings.DEMO_RUN_QUEUE}",
                        f"--concurrency={options['concurrency']}",
                    ],
                    cwd=BASE_DIR,
                    env=quiet,
                ),
            )
        )
        address = f"{options['host']}:{options['port']}"
        processes.append(
            (
                "web server",
                subprocess.Popen(
                    [sys.executable, "manage.py", "runserver", address, "--skip-checks"],
                    cwd=BASE_DIR,
                    env=quiet,
                    # Its banner repeats what is printed below; errors and requests go to stderr.
                    stdout=subprocess.DEVNULL,
                ),
            )
        )
        workers = options["concurrency"]
        plural = "" if workers == "1" else "es"
        lines = [
            "",
            f"Messaging Advisor is running: open http://{address}/",
            "",
            f"  web server   Django's development server on {address} (reloads when code changes)",
            f"  worker       Celery, {workers} process{plural}, runs the demos;"
            " it sweeps stuck runs itself (logs warnings and errors only)",
            redis_line,
            f"  admin        http://{address}/admin/ (rule weights, rulesets)",
        ]
        if not get_user_model().objects.filter(is_staff=True).exists():
            lines.append(
                "               no admin account yet: .venv/bin/python manage.py createsuperuser"
            )
        lines += [
            "",
            "Requests are logged below (not each poll of a running demo). Ctrl-C stops it all.",
            "",
        ]
        return lines
