"""A PostgreSQL server that accepts connections but never answers does not hold the app.

The app is pointed at a socket that accepts and then stays silent; connecting gives up
after DATABASE_CONNECT_TIMEOUT with an error, instead of holding a web worker for as long
as the operating system waits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CONNECT = "from django.db import connection; connection.ensure_connection()"


def test_a_database_that_never_answers_fails_the_connection_within_its_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    stop = threading.Event()

    def accept_and_stay_silent():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{port}/advisor",
        "DATABASE_CONNECT_TIMEOUT": "2",
    }
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", CONNECT],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # a bound on waiting; without the timeout this would hang far longer
        )
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()

    assert accepted, "the app did connect to the silent server"
    assert result.returncode != 0
    assert "timeout" in result.stderr.lower(), result.stderr[-2000:]
