"""Child processes of the embedded engine, always cleaned up.

Children are started with ``subprocess`` (``python -m advisor.demos.drivers.embedded.<module>``),
not ``multiprocessing``: a Celery prefork worker runs tasks in daemonic processes, which
``multiprocessing`` forbids from having children. Every child asks the kernel to kill it
when its parent dies (``die_with_parent``), so a worker killed with SIGKILL leaves no
orphans; :class:`ChildProcesses` kills whatever is left when a run ends, fails or is
cancelled.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

# The directory that holds the ``advisor`` package, so children can import it.
PROJECT_ROOT = Path(__file__).resolve().parents[4]
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """In a child: get SIGKILL when the parent exits; exit now if it already has (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class LineReader:
    """Lines from a child's stdout pipe, with a timeout, so a caller can poll for cancel.

    Reads the raw descriptor (never a buffered file object, whose hidden buffer would make
    ``select`` report "nothing to read" while lines are waiting).
    """

    def __init__(self, process: subprocess.Popen):
        self.descriptor = process.stdout.fileno()
        self.buffer = b""
        self.closed = False

    def next_line(self, timeout: float) -> str | None:
        """The next line without its newline; None on timeout; "" once the pipe has closed."""
        while b"\n" not in self.buffer:
            if self.closed:
                rest, self.buffer = self.buffer, b""
                return rest.decode() if rest else ""
            ready, _, _ = select.select([self.descriptor], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self.descriptor, 65536)
            if not chunk:
                self.closed = True
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()


class ChildProcesses:
    """A context manager that starts children and SIGKILLs any still alive on exit."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def start(self, module: str, *arguments: str, **popen_options) -> subprocess.Popen:
        """Start ``python -m module --parent-pid PID arguments...`` with pipes by default."""
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")])
        )
        command = [sys.executable, "-m", module, "--parent-pid", str(os.getpid()), *arguments]
        options = {
            "stdin": subprocess.PIPE,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "env": environment,
            "cwd": str(PROJECT_ROOT),
            "bufsize": 0,  # unbuffered: LineReader reads the raw pipe
        }
        options.update(popen_options)
        process = subprocess.Popen(command, **options)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL one child and reap it (no zombie)."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def kill_all(self) -> None:
        for process in self.processes:
            self.kill(process)
        self.processes.clear()

    def __enter__(self) -> ChildProcesses:
        return self

    def __exit__(self, *exc_info) -> None:
        self.kill_all()
