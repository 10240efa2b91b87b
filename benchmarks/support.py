"""What the benchmark scripts share: percentiles and a PostgreSQL database of their own."""

from __future__ import annotations

from urllib.parse import urlparse


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def _server_url(url: str) -> str:
    return urlparse(url)._replace(path="/postgres").geturl()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in the URL when it does not exist."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(_server_url(url), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(_server_url(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
