"""`make run`'s serve command: a local Redis when none answers, and Ctrl-C stops it all."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from advisor.devserver.localredis import redis_reachable

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_serve_starts_redis_when_none_answers_and_ctrl_c_stops_everything(tmp_path):
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    web_port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    assert not redis_reachable(redis_url)
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(web_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: page_answers(f"http://127.0.0.1:{web_port}/"), 30)
        assert redis_reachable(redis_url)
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=30)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
    assert "started a local redis-server" in output
    # Quiet: where to open the app and what runs, without noise a newcomer cannot act on.
    assert f"Messaging Advisor is running: open http://127.0.0.1:{web_port}/" in output
    assert "superuser privileges" not in output  # Celery's root warning (JSON only here)
    assert "This is a development server" not in output
    assert output.count("Watching for file changes") <= 1
    assert "celery@" not in output  # no worker banner
    assert "manage.py createsuperuser" in output  # how to make the first admin account
    assert serve.returncode == 0
    assert wait_for(lambda: not redis_reachable(redis_url), 10)
    assert not page_answers(f"http://127.0.0.1:{web_port}/")
