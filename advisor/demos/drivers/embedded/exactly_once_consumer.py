"""A consumer process for the exactly-once scenario (run by the parent, killed by it).

Modes:
- ``broker``: receives from the broker over loopback TCP, sends its result with a duplicate
  id (the message id) and then acknowledges the message; the broker deduplicates.
- ``transactional``: reads the log at its stored offset and commits the result and the next
  offset in one SQLite transaction.
- ``naive``: reads the log at its stored offset, commits the result, then commits the offset
  in a separate store (at-least-once: a crash between the two repeats the work).

At each step boundary named in the kill plan the consumer writes ``paused ID POINT`` and
waits; the parent then kills it with SIGKILL. After each message it writes ``done ID T``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import sys
import time

from advisor.demos.drivers.embedded.children import die_with_parent

POINTS = ("before_effect", "after_effect", "after_commit")


def report(line: str) -> None:
    # Unbuffered, so nothing reported is lost when the parent kills this process.
    os.write(sys.stdout.fileno(), (line + "\n").encode())


class Consumer:
    def __init__(self, kill_plan: list[list]):
        self.kill_plan = {(int(message_id), point) for message_id, point in kill_plan}

    def point(self, message_id: int, point: str) -> None:
        if (message_id, point) in self.kill_plan:
            report(f"paused {message_id} {point}")
            sys.stdin.readline()  # the parent kills us here
            self.kill_plan.discard((message_id, point))


def open_database(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # atomic across a process kill
    return connection


def result_value(message_id: int, body: str) -> int:
    """The side effect's content: any deterministic function of the message will do."""
    return message_id * 31 + len(body)


def run_broker_consumer(consumer: Consumer, port: int) -> None:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # Separate files: a "rw" text file's write() discards text it has read ahead.
    reader = connection.makefile("r", encoding="utf-8", newline="\n")
    writer = connection.makefile("w", encoding="utf-8", newline="\n")

    def call(line: str) -> str:
        writer.write(line + "\n")
        writer.flush()
        return reader.readline().rstrip("\n")

    for _ in range(10**9):  # bounded by the broker running dry
        reply = call("RECEIVE")
        if reply == "EMPTY":
            return
        if reply == "WAIT":  # a crashed consumer's messages are being returned
            time.sleep(0.001)
            continue
        _, message_id_text, body = reply.split(" ", 2)
        message_id = int(message_id_text)
        consumer.point(message_id, "before_effect")
        call(f"RESULT {message_id} {result_value(message_id, body)}")
        consumer.point(message_id, "after_effect")
        call(f"ACK {message_id}")
        consumer.point(message_id, "after_commit")
        report(f"done {message_id} {time.perf_counter()}")


def read_log(log: sqlite3.Connection, offset: int) -> tuple[int, str] | None:
    row = log.execute("SELECT message_id, body FROM log WHERE offset = ?", (offset,)).fetchone()
    return (row[0], row[1]) if row else None


def run_log_consumer(consumer: Consumer, workdir: str, transactional: bool) -> None:
    log = open_database(os.path.join(workdir, "log.sqlite"))
    name = "transactional" if transactional else "naive"
    results = open_database(os.path.join(workdir, f"consumer-{name}.sqlite"))
    # The naive consumer commits offsets elsewhere, as a client committing to a broker does.
    offsets = results if transactional else open_database(os.path.join(workdir, "offsets.sqlite"))
    for _ in range(10**9):  # bounded by the end of the log
        row = offsets.execute("SELECT next_offset FROM offsets WHERE consumer = ?", (name,))
        offset = row.fetchone()[0]
        record = read_log(log, offset)
        if record is None:
            return
        message_id, body = record
        consumer.point(message_id, "before_effect")
        results.execute("BEGIN IMMEDIATE")
        results.execute(
            "INSERT INTO results (message_id, value) VALUES (?, ?)",
            (message_id, result_value(message_id, body)),
        )
        if not transactional:
            results.execute("COMMIT")
        consumer.point(message_id, "after_effect")
        if not transactional:
            offsets.execute("BEGIN IMMEDIATE")
        offsets.execute("UPDATE offsets SET next_offset = ? WHERE consumer = ?", (offset + 1, name))
        offsets.execute("COMMIT")
        consumer.point(message_id, "after_commit")
        report(f"done {message_id} {time.perf_counter()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--mode", choices=("broker", "transactional", "naive"), required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kill-plan", default="[]", help="JSON list of [message_id, point]")
    options = parser.parse_args()
    die_with_parent(options.parent_pid)
    consumer = Consumer(json.loads(options.kill_plan))
    if options.mode == "broker":
        run_broker_consumer(consumer, options.port)
    else:
        run_log_consumer(consumer, options.workdir, options.mode == "transactional")
    report("finished")


if __name__ == "__main__":
    main()
