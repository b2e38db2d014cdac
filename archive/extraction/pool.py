"""A process pool for extraction that can kill the one task that runs away.

trafilatura can loop for minutes on some huge pages, and neither a thread nor one task of a
``ProcessPoolExecutor`` can be stopped. Here each worker process is fed by its own dispatcher
thread over a pipe, so that thread knows which process holds which task and can kill just that one.

Workers start lazily, all of them on the first ``submit`` (or at ``start``). A worker lost to a
timeout, a crash or recycling is replaced before its task's future resolves, so a caller that
sees the error sees a full pool again. A time limit counts from when the task reaches a worker
that has imported ``func``'s module and the modules named in ``preload``: a fresh worker's
import of trafilatura does not eat into it. Processes come from "forkserver" on Linux ("spawn"
elsewhere), never a plain fork: the parent runs a Twisted reactor and threads, and a fork can
copy a lock another thread holds.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

import archive.defaults as defaults
from archive.exceptions import ExtractError, ExtractTimeout

__all__ = ["KillablePool", "start_forkserver"]

logger = logging.getLogger(__name__)

R = TypeVar("R")

_GRACE = 1.0  # seconds a process asked to stop gets before SIGKILL
_BOOT_TIMEOUT = 60.0  # a worker still importing ``func`` after this is taken for hung

_Task = tuple["Future[Any]", tuple[Any, ...]]


def _worker_main(conn: Connection, func: Callable[..., Any], preload: Sequence[str]) -> None:
    # Ctrl-C reaches the whole process group; only the parent decides when a worker ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with conn:
        try:
            for name in preload:  # already loaded when forked from a preloaded forkserver
                importlib.import_module(name)
            conn.send_bytes(b"")  # ready: func's module and the preloads are imported
            while True:
                data = conn.recv_bytes()
                try:
                    reply = pickle.dumps((True, func(*pickle.loads(data))), pickle.HIGHEST_PROTOCOL)
                except Exception as exc:
                    # The exception (or result) may not pickle, so only a description travels.
                    reply = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                conn.send_bytes(reply)
        except (EOFError, OSError):
            pass  # the parent closed its end (recycling, closing) or is gone


def start_forkserver(func: Callable[..., Any], preload: Sequence[str] = ()) -> None:
    """Start the forkserver of this process's pools now, importing what ``func`` needs.

    Its imports then run beside the caller's work instead of delaying the first extraction.
    A later ``KillablePool(func, preload=...)`` uses the running server. No-op off Linux.
    """
    if sys.platform != "linux":
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload([func.__module__, *preload])
    forkserver.ensure_running()


@dataclass(slots=True)
class _Slot:
    """One worker process and its pipe; only the slot's dispatcher thread replaces them."""

    lock: threading.Lock = field(default_factory=threading.Lock)  # for close() on another thread
    process: BaseProcess | None = None
    conn: Connection | None = None
    ready: bool = False
    started: bool = False
    tasks: int = 0


class KillablePool(Generic[R]):
    """Run ``func(*args)`` in worker processes, killing any task that runs past ``timeout``.

    ``func`` must be a picklable module-level function; arguments and results are pickled.
    Futures resolve on a background thread: ``ExtractTimeout`` past the time limit,
    ``ExtractError`` when ``func`` raises or its worker dies. A worker is replaced after
    ``max_tasks_per_worker`` tasks (None: never), because trafilatura and lxml leak memory.
    ``preload`` names modules that ``func`` imports lazily: a worker imports them before it
    counts as ready, so their import never eats into a task's time limit, and on Linux the
    forkserver imports them once, so that every worker forked from it starts with them loaded.
    ``stats``: tasks_done, tasks_failed (timeouts included), timeouts, worker_restarts.
    """

    def __init__(
        self,
        func: Callable[..., R],
        workers: int | None = None,
        timeout: float = defaults.EXTRACT_TIMEOUT,
        max_tasks_per_worker: int | None = 1000,
        preload: Sequence[str] = (),
    ) -> None:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if (
            workers < 1
            or timeout <= 0
            or (max_tasks_per_worker is not None and max_tasks_per_worker < 1)
        ):
            raise ValueError("workers, timeout and max_tasks_per_worker must be positive")
        try:
            pickle.dumps(func)
        except Exception as exc:  # fail here rather than in every worker start
            raise TypeError(f"func must be a picklable module-level function: {exc}") from exc
        self._func, self._workers, self._timeout = func, workers, timeout
        self._max_tasks = max_tasks_per_worker
        self._ctx: ForkServerContext | SpawnContext = (
            multiprocessing.get_context("forkserver")
            if sys.platform == "linux"
            else multiprocessing.get_context("spawn")
        )
        self._preload = tuple(preload)
        if isinstance(self._ctx, ForkServerContext) and self._preload:
            # Only the first pool of a process sets it: its forkserver starts once.
            self._ctx.set_forkserver_preload([func.__module__, *self._preload])
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._slots: list[_Slot] = []
        self._threads: list[threading.Thread] = []
        self._stats = dict.fromkeys(("tasks_done", "tasks_failed", "timeouts"), 0)
        self._stats["worker_restarts"] = 0

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def start(self) -> None:
        """Start the workers now, in the background, rather than on the first ``submit``."""
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot start a closed KillablePool")
            self._start_dispatchers()

    def submit(self, *args: Any) -> Future[R]:
        future: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a closed KillablePool")
            self._start_dispatchers()
            self._tasks.put((future, args))
        return future

    def _start_dispatchers(self) -> None:
        # Under self._lock. Each dispatcher thread starts its worker as its first act.
        while len(self._threads) < self._workers:
            self._slots.append(slot := _Slot())
            name = f"extract-pool-{len(self._threads)}"
            # Daemon: a pool never closed must not keep the interpreter from exiting.
            thread = threading.Thread(target=self._dispatch, args=(slot,), name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def close(self, wait: bool = True) -> None:
        """Cancel queued tasks, stop the workers and wait until they have exited.

        With ``wait`` running tasks finish first (within their time limit); without it their
        workers are killed at once and their futures fail with ``ExtractError``.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            while True:  # no submit can add to the queue any more
                if task := self._tasks.get_nowait():
                    task[0].cancel()
        except queue.Empty:
            pass
        if not wait:
            for slot in self._slots:
                with slot.lock:
                    if slot.process is not None:
                        slot.process.kill()
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            if thread is not threading.current_thread():  # close() from a future's callback
                thread.join()

    def __enter__(self) -> KillablePool[R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _dispatch(self, slot: _Slot) -> None:
        self._refill(slot)
        try:
            while (task := self._tasks.get()) is not None:
                future, args = task
                del task  # hold nothing while idle, so a finished task's data can be freed
                if future.set_running_or_notify_cancel():
                    try:
                        self._run(slot, future, args)
                    except Exception as exc:  # a bug here must not leave a caller waiting forever
                        logger.exception("Extract pool dispatcher failed")
                        if not future.done():
                            self._finish(future, error=ExtractError(f"extract pool failed: {exc}"))
                del future, args
        finally:
            self._stop_worker(slot, kill=False)

    def _run(self, slot: _Slot, future: Future[Any], args: tuple[Any, ...]) -> None:
        try:
            payload = pickle.dumps(args, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            self._finish(future, error=ExtractError(f"arguments cannot be pickled: {exc}"))
            return
        worker = self._start_worker(slot)
        if worker is not None and worker[1].exitcode is not None:
            # It died while idle (the OOM killer, say): not this task's fault, so replace it first.
            logger.warning("Extract worker %s died while idle", worker[1].pid)
            self._stop_worker(slot, kill=True)
            worker = self._start_worker(slot)
        if worker is None:
            self._finish(future, error=ExtractError("extract pool closed"))
            return
        conn, process = worker
        pid = process.pid  # the process object is closed once stopped
        reply, timed_out = None, False
        if not slot.ready:
            hello, timed_out = self._receive(conn, process, _BOOT_TIMEOUT)
            slot.ready = hello is not None
        if slot.ready:
            try:
                conn.send_bytes(payload)
            except OSError:
                pass  # the worker is gone; reported below
            else:
                reply, timed_out = self._receive(conn, process, self._timeout)
        if reply is not None:
            slot.tasks += 1
            if self._max_tasks is not None and slot.tasks >= self._max_tasks:
                logger.debug("Recycling extract worker %s after %d tasks", pid, slot.tasks)
                self._stop_worker(slot, kill=False)
                self._refill(slot)
            try:
                ok, value = pickle.loads(reply)
            except Exception as exc:
                ok, value = False, f"result cannot be unpickled: {type(exc).__name__}: {exc}"
            self._finish(future, value, None if ok else ExtractError(value))
            return
        booted = slot.ready
        exitcode = self._stop_worker(slot, kill=True)
        if self._closed and not timed_out:
            error = ExtractError("extract pool closed")
        elif timed_out and not booted:
            error = ExtractError(f"worker did not start within {_BOOT_TIMEOUT} s")
        elif timed_out:
            logger.warning("Extraction exceeded %s s; killed worker %s", self._timeout, pid)
            error = ExtractTimeout(f"extraction exceeded {self._timeout} s")
        else:
            how = (
                f"killed by {signal.Signals(-exitcode).name}"
                if exitcode is not None and -exitcode in signal.valid_signals()
                else f"exit code {exitcode}"
            )
            logger.warning("Extract worker %s died (%s)", pid, how)
            error = ExtractError(f"worker died ({how})")
        self._refill(slot)
        self._finish(future, error=error)

    def _finish(
        self, future: Future[Any], result: Any = None, error: Exception | None = None
    ) -> None:
        with self._lock:
            self._stats["tasks_failed" if error else "tasks_done"] += 1
            self._stats["timeouts"] += isinstance(error, ExtractTimeout)
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    @staticmethod
    def _receive(conn: Connection, process: BaseProcess, limit: float) -> tuple[bytes | None, bool]:
        """The worker's next message, or None and whether the limit passed (else it died)."""
        try:
            ready = wait([conn, process.sentinel], limit)
            if conn in ready:
                return conn.recv_bytes(), False
        except (EOFError, OSError):
            return None, False
        return None, not ready

    def _refill(self, slot: _Slot) -> None:
        try:
            self._start_worker(slot)
        except Exception as exc:  # out of processes or descriptors, say; the next task retries
            logger.warning("Cannot start an extract worker: %s", exc)

    def _start_worker(self, slot: _Slot) -> tuple[Connection, BaseProcess] | None:
        """The slot's worker, started if need be; None once the pool is closed."""
        with slot.lock:
            if slot.process is not None and slot.conn is not None:
                return slot.conn, slot.process
            if self._closed:
                return None
            parent_conn, child_conn = self._ctx.Pipe()
            process = self._ctx.Process(
                target=_worker_main, args=(child_conn, self._func, self._preload)
            )
            process.daemon = True  # multiprocessing kills it at exit if close() was never called
            try:
                process.start()
            except BaseException:
                parent_conn.close()
                raise
            finally:
                # Only the child may hold its end, or its death would not show up as EOF here.
                child_conn.close()
            slot.process, slot.conn = process, parent_conn
            if slot.started:
                with self._lock:
                    self._stats["worker_restarts"] += 1
            slot.started = True
        logger.debug("Started extract worker %s", process.pid)
        return parent_conn, process

    def _stop_worker(self, slot: _Slot, *, kill: bool) -> int | None:
        with slot.lock:
            process, conn = slot.process, slot.conn
            slot.process, slot.conn, slot.ready, slot.tasks = None, None, False, 0
        if process is None or conn is None:
            return None
        conn.close()  # an idle worker reads EOF and exits on its own
        if kill and process.exitcode is None:
            process.terminate()
        process.join(_GRACE)
        if process.exitcode is None:
            process.kill()
            process.join()
        exitcode = process.exitcode
        process.close()
        return exitcode
