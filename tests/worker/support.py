"""What the worker tests share: a Redis of their own, real Celery workers, the run's row.

Each test runs its own redis-server on a free loopback port (so it may kill and restart
it without touching a Redis anything else uses), Celery workers in their own process
groups against it, and a SQLite file that the workers write and the test reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from advisor.devserver.localredis import redis_server_binary

BASE_DIR = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 120  # a bound on waiting, never an assertion about speed
# Short limits so that a lost worker or message shows within seconds.
LIMITS = {
    "CELERY_VISIBILITY_TIMEOUT": "20",
    "DEMO_RUN_SOFT_TIME_LIMIT": "15",
    "DEMO_RUN_TIME_LIMIT": "18",
    "DEMO_RUN_HEARTBEAT_TIMEOUT": "3",
    "DEMO_RUN_RESEND_AFTER": "2",
    "DEMO_RUN_SWEEP_INTERVAL": "1",
}
# A few seconds of work that does not depend on the disk's fsync speed.
PARAMETERS = {"messages": 1000, "target_rate": 500, "processing_ms": 1.0}

ENQUEUE = """
from advisor.demoruns.services import demo_run_enqueue
from questionnaire.services import assessment_create
assessment = assessment_create(title="worker test")
for _ in range({count}):
    run = demo_run_enqueue(
        assessment=assessment,
        scenario="push_pull",
        parameters={parameters},
        owner_session="worker-test",
    )
    print(run.pk)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server on one loopback port that keeps nothing on disk."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError, OSError):
                if self.client().ping():
                    return
            time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: whatever it held is gone."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def enqueue(env: dict, count: int = 1) -> list[str]:
    """Queue push_pull runs the way the page does; their ids."""
    script = ENQUEUE.format(count=count, parameters=PARAMETERS)
    return manage(env, "shell", "-c", script).stdout.split()[-count:]


class Workers:
    """Celery demo workers started by a test, each in its own process group."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = open(self.log_dir / f"worker{number}.log", "wb")  # noqa: SIM115 (closed by the OS)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues=demos",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test{number}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, children included
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(process)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("worker*.log"))
        )


def read_run(database: Path, run_id: str) -> dict:
    with sqlite3.connect(database, timeout=10) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            "SELECT status, attempts, sends, progress, error, metrics, finished_at "
            "FROM advisor_demorun WHERE id = ?",
            (run_id.replace("-", ""),),
        ).fetchone()
    return dict(row)


def count_runs(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        return connection.execute("SELECT COUNT(*) FROM advisor_demorun").fetchone()[0]


def wait_for(condition, describe, workers: Workers):
    """Poll `condition()` until it returns something true, within DEADLINE_SECONDS."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{describe()}\n{workers.logs()}")


def finished(database: Path, run_id: str, workers: Workers) -> dict:
    """The run's row once it has finished (succeeded, failed or cancelled)."""

    def done():
        row = read_run(database, run_id)
        return row if row["status"] not in {"queued", "running"} else None

    return wait_for(done, lambda: f"the run stayed {read_run(database, run_id)['status']}", workers)


def leftovers(work_root: Path) -> list[str]:
    return sorted(path.name for path in work_root.iterdir()) if work_root.exists() else []
