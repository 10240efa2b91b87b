"""One node of the clustering scenario: a process that accepts, delivers and forwards.

It listens on 127.0.0.1 (an ephemeral port it prints as ``port N``) and reads ``next PORT``
on stdin: the node it forwards to. A connection starts with its role:

- ``PRODUCER``: lines ``M DEST ID SENT BODY``; the node accepts each one, delivers or
  forwards it, then answers ``A`` (the producer's acknowledgement).
- ``PEER``: the same lines from the previous node, without acknowledgements.
- ``CONSUMER``: the node answers ``READY``, then delivers lines addressed to it here (the
  latest consumer wins).

A line addressed to this node goes to its consumer; any other goes one hop onwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading

from advisor.demos.drivers.embedded.children import die_with_parent


class Node:
    def __init__(self, index: int):
        self.index = index
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.next_port: int | None = None
        self.next_ready = threading.Event()
        self.consumer = None
        self.peer = None
        self.lock = threading.Lock()

    def route(self, line: str) -> None:
        destination = int(line.split(" ", 2)[1])
        with self.lock:
            if destination == self.index:
                if self.consumer is not None:
                    self.consumer.write(line)
                    self.consumer.flush()
                return
            if self.peer is None:
                self.next_ready.wait()
                connection = socket.create_connection(("127.0.0.1", self.next_port))
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.peer = connection.makefile("w", encoding="utf-8", newline="\n")
                self.peer.write("PEER\n")
            self.peer.write(line)
            self.peer.flush()

    def serve(self, connection: socket.socket) -> None:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = connection.makefile("r", encoding="utf-8", newline="\n")
        writer = connection.makefile("w", encoding="utf-8", newline="\n")
        with contextlib.suppress(OSError, ValueError):
            role = reader.readline().strip()
            if role == "CONSUMER":
                with self.lock:
                    self.consumer = writer
                    writer.write("READY\n")
                    writer.flush()
                reader.read()  # hold the connection until the consumer leaves
                return
            for line in reader:
                self.route(line)
                if role == "PRODUCER":
                    writer.write("A\n")
                    writer.flush()

    def accept_forever(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--index", type=int, required=True)
    options = parser.parse_args()
    die_with_parent(options.parent_pid)
    node = Node(options.index)
    threading.Thread(target=node.accept_forever, daemon=True).start()
    os.write(sys.stdout.fileno(), f"port {node.listener.getsockname()[1]}\n".encode())
    for line in sys.stdin:  # control channel; EOF means the parent is done with us
        command, _, value = line.strip().partition(" ")
        if command == "next":
            node.next_port = int(value) if value != "none" else None
            node.next_ready.set()


if __name__ == "__main__":
    main()
