"""Fixtures of the worker tests (helpers in tests/worker/support.py)."""

from __future__ import annotations

import os

import pytest

from tests.worker.support import LIMITS, RedisServer, Workers, manage


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def environment(tmp_path, redis_server):
    database = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": redis_server.url,
        "CELERY_RESULT_BACKEND": redis_server.url,
        "DEMO_RUN_WORK_ROOT": str(tmp_path / "runs"),
        "PYTHONUNBUFFERED": "1",
        **LIMITS,
    }
    manage(env, "migrate", "--noinput")
    return env, database, tmp_path / "runs"


@pytest.fixture
def workers(environment, tmp_path):
    env, _, _ = environment
    started = Workers(env, tmp_path)
    yield started
    started.stop_all()
