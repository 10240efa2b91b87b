"""Settings that keep production safe: database timeouts, `check --deploy`, HSTS."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.db.utils import ConnectionHandler

from config.settings.base import database_config

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-the-test-0123456789",
    "DJANGO_ALLOWED_HOSTS": "advisor.example.com",
    "DATABASE_URL": "sqlite:////tmp/advisor-deploy-check.sqlite3",
}


def test_postgresql_connections_get_a_connect_and_a_statement_timeout():
    config = database_config(
        "postgres://advisor@db.internal:5432/advisor", connect_timeout=4, statement_timeout_ms=9000
    )
    assert config["OPTIONS"]["connect_timeout"] == 4
    assert config["OPTIONS"]["options"] == "-c statement_timeout=9000"
    sqlite = database_config("sqlite:///db.sqlite3", connect_timeout=4, statement_timeout_ms=9000)
    assert "connect_timeout" not in sqlite.get("OPTIONS", {})


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word (a hung database)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def accept_forever():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    # Should the timeout not work, the test fails with a reset connection, never hangs.
    closer = threading.Timer(60, listener.close)
    closer.start()
    yield listener.getsockname()[1]
    closer.cancel()
    listener.close()
    for sock in accepted:
        sock.close()


def test_a_database_that_accepts_but_never_answers_fails_fast_with_a_timeout(
    silent_server, django_db_blocker
):
    config = database_config(
        f"postgres://advisor@127.0.0.1:{silent_server}/advisor",
        connect_timeout=2,
        statement_timeout_ms=1000,
    )
    handler = ConnectionHandler({"default": config})
    hung = handler["default"]
    try:
        with django_db_blocker.unblock(), pytest.raises(OperationalError, match="timeout expired"):
            hung.ensure_connection()
    finally:
        hung.close()


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's (CI runs it)"
)
def test_postgresql_cancels_a_statement_that_runs_past_the_timeout(settings):
    from django.db.utils import OperationalError as DjangoOperationalError

    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        assert cursor.fetchone()[0] == str(settings.DATABASE_STATEMENT_TIMEOUT_MS)
        cursor.execute("SET LOCAL statement_timeout = 50")
        with pytest.raises(DjangoOperationalError, match="statement timeout"):
            cursor.execute("SELECT pg_sleep(5)")


def production_environment(**extra_env) -> dict[str, str]:
    """This process's environment as a deployment would have it (the browser tests set
    DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment must not)."""
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**inherited, **PRODUCTION_ENV, **extra_env}


def run_with_production_settings(code: str, **extra_env) -> str:
    env = production_environment(**extra_env)
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_check_deploy_is_clean_under_production_settings():
    env = production_environment()
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues" in completed.stdout


READ_HSTS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_PRELOAD)"
)


def test_hsts_lasts_a_year_with_preload_and_drops_preload_when_shorter():
    assert run_with_production_settings(READ_HSTS).split() == ["31536000", "True"]
    shorter = run_with_production_settings(READ_HSTS, DJANGO_SECURE_HSTS_SECONDS="86400")
    assert shorter.split() == ["86400", "False"]
