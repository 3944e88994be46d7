"""``regulars worker`` beside ``regulars demo``'s web server, as a child process.

Why a child process and not a thread: gunicorn's master forks its workers (at start, and
again whenever one is replaced), and a fork copies the locks a running thread holds
(its database connection's, logging's, stdout's) into a child where nothing will ever
release them. Inside gunicorn's workers it would run once per worker and die with each.
A separate ``regulars worker`` is also exactly what production runs beside the web
processes, so the demo shows the real path: outbox, worker, SMS gateway.

How it stops: it shares the demo's process group, so Ctrl+C in the terminal reaches it
directly and it stops after its batch. When the server stops, the demo closes the
worker's standard input: that stops it too if the demo was stopped another way (a
SIGTERM to the demo alone). If the demo is killed outright, the worker sees its parent
change and stops: no orphan keeps sending.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

GRACE = 30.0  # seconds for the worker to finish its batch before it is terminated


def worker_command() -> list[str]:
    """``regulars worker`` for a child of this process: the same interpreter and packages
    (``python -m webapp``), told our pid so that it stops when we are gone."""
    return [sys.executable, "-m", "webapp", "worker", "--beside", str(os.getpid())]


@contextmanager
def worker_beside(command: Sequence[str] | None = None, grace: float = GRACE
                  ) -> Iterator[subprocess.Popen[bytes]]:
    """Run the worker (a child process sharing our terminal) while the block runs; stop
    it, and wait for it, when the block ends however it ends."""
    worker = subprocess.Popen(list(command or worker_command()), stdin=subprocess.PIPE)
    try:
        yield worker
    finally:
        _stop(worker, grace)


def _stop(worker: subprocess.Popen[bytes], grace: float) -> None:
    if worker.stdin is not None:
        worker.stdin.close()  # the worker's cue to stop (see watch_parent)
    try:
        worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def watch_parent(stop: threading.Event, parent: int, poll: float = 0.5) -> threading.Thread:
    """Set ``stop`` once the parent (pid ``parent``: given, since it may be gone before we
    look) closes our standard input or exits; a daemon thread.

    Reads the raw descriptor, not ``sys.stdin``: a daemon thread blocked inside a
    buffered reader would make the interpreter's shutdown fail on that reader's lock.
    """

    def watch() -> None:
        while not stop.is_set():
            try:
                readable, _, _ = select.select([0], [], [], poll)
                closed = bool(readable) and not os.read(0, 4096)
            except OSError:  # no usable standard input: as good as closed
                closed = True
            if closed or os.getppid() != parent:
                stop.set()

    thread = threading.Thread(target=watch, name="watch-parent", daemon=True)
    thread.start()
    return thread
