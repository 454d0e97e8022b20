"""The job engine: runs a build's jobs, in this process or in worker processes forked
from it and supervised here, each job under a time limit, and returns what each renders
to (a Target; for `brief check`, a target prepared up to layout) or a Failure. What a
job renders to is build.py's to say (run_jobs takes the function); only build.py uses
this module.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import prefork
from .errors import BriefError, RenderError
from .jobs import Failure, Job
from .output import signals_held

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)
R = TypeVar("R")  # what a job renders to

# The engine's one piece of global state (listed in the package docstring), set by
# run_jobs before any worker is forked (workers inherit it; nothing in it is pickled):
# "render", the function that turns a Job into a Target (build.render_target, with the
# project loaded and a template environment made once, and WeasyPrint kept warm across
# the targets a process renders; for `brief check`, build.prepare_target, which stops
# before layout), and "timeout", each job's time limit in seconds.
_WORKER: dict[str, Any] = {}
# A worker is replaced after this many targets: WeasyPrint's caches and the allocator's
# fragmentation grow a worker's memory by about 0.2 MiB a target; a fresh worker (forked,
# warm but for WeasyPrint's import) costs about half a second.
WORKER_TARGETS = 40


class TargetTimeout(BaseException):
    """A target ran past its time limit. A BaseException, so that no `except Exception`
    in a template filter or in WeasyPrint can swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TargetTimeout in this thread after `seconds` (main thread only: SIGALRM)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TargetTimeout

    def unraisable(event: Any) -> None:  # a timeout dropped by Python, not an error
        if not isinstance(event.exc_value, TargetTimeout):
            hook(event)

    hook, sys.unraisablehook = sys.unraisablehook, unraisable
    previous = signal.signal(signal.SIGALRM, expire)
    # Then every half second: an exception raised inside a finaliser or weakref callback
    # is printed and dropped by Python, so the first may not reach the target's code.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook


def run_jobs(
    render: Callable[[Job], R], timeout: float, pending: list[Job], jobs: int,
    progress: Callable[[int, int], None] | None,
) -> list[R | Failure]:
    """Render each pending job with `render`, each within `timeout` seconds, in `jobs`
    worker processes (in this one if 1, or if there is only one job); the results in
    pending's order. progress is called with (done, total) as each job ends. (A build
    renders Targets; `brief check` prepares each target, in this process.)"""
    _WORKER.update(render=render, timeout=timeout)
    if jobs > 1 and len(pending) > 1:
        prefork.stop()  # each worker imports WeasyPrint itself
        return _render_in_workers(pending, min(jobs, len(pending)), progress)
    results: list[R | Failure] = []
    for job in pending:
        results.append(_run(job))
        if progress:
            progress(len(results), len(pending))
    return results


def _run(job: Job) -> Any:
    timeout = _WORKER["timeout"]
    try:
        with time_limit(timeout):
            return _WORKER["render"](job)
    except BriefError as exc:
        return Failure.of(job, exc)
    except TargetTimeout:
        return Failure(job, (
            f"{job.label}: not finished after {timeout:g} s, given up; a template loop "
            "or a layout that does not converge? Simplify the template or CSS, or raise "
            "`timeout` (seconds per target) in the project config"
        ), RenderError)


@dataclass
class _Worker:
    """A worker process as the main process sees it: its end of the pipe, the target it
    is rendering (None: idle), and how many it has rendered."""

    process: BaseProcess
    channel: Connection
    job: Job | None = None
    done: int = 0


def _render_in_workers(
    pending: list[Job], jobs: int, progress: Callable[[int, int], None] | None,
) -> list[Any]:
    """Render pending in `jobs` worker processes, forked from this one (so they start
    with the project loaded), and return the results in pending's order.

    The workers are supervised here, not by a pool: this process sends each worker one
    target at a time over a pipe of its own, so it knows which target every worker is
    rendering, and waits on all the pipes and on the processes themselves at once. A
    worker that dies (SIGKILL from the OOM killer, a crash in a C library) fails only
    its own target ("worker for X died: signal 9"), and the others go on in the other
    workers and in a new one. (multiprocessing.Pool loses that target and waits for it
    for ever; concurrent.futures' BrokenProcessPool fails every target in flight.) This
    process never blocks on a lock or on one worker, so Ctrl-C and SIGTERM (raised here
    as KeyboardInterrupt) always end the build: the workers are killed and waited for
    on the way out. A worker is replaced after WORKER_TARGETS targets, and ended when
    nothing is left for it to do.
    """
    import multiprocessing  # only here: 20 ms to import
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    queue = list(reversed(pending))  # the next job last
    results: dict[Job, Any] = {}  # a Target or a Failure
    workers: list[_Worker] = []

    def start() -> None:
        ours, theirs = context.Pipe()
        # Its siblings' pipes are closed in it: a worker sees its pipe's end (EOF) when
        # this process closes it or dies, and no other worker may hold it open.
        inherited = [w.channel for w in workers] + [ours]
        process = context.Process(target=_serve, args=(theirs, inherited, os.getpid()),
                                  daemon=True)
        with signals_held():  # until it is listed, for the clean-up below to end it
            process.start()
            workers.append(_Worker(process, ours))
        theirs.close()

    def record(job: Job, result: Any) -> None:
        results[job] = result
        if progress:
            progress(len(results), len(pending))

    def end(worker: _Worker) -> None:
        workers.remove(worker)
        worker.channel.close()
        worker.process.join(1)  # it exits when its pipe closes, or has exited
        if worker.process.exitcode is None:
            worker.process.kill()
            worker.process.join()

    try:
        while queue or any(w.job for w in workers):
            for worker in [w for w in workers if w.job is None]:
                if not queue or worker.done == WORKER_TARGETS:  # it has exited
                    end(worker)
            while queue and len(workers) < jobs:
                start()
            for worker in workers:
                if worker.job is None and queue:
                    worker.job = queue.pop()
                    log.debug("%s: rendering in worker %d", worker.job.label,
                              worker.process.pid)
                    try:
                        worker.channel.send(worker.job)
                    except OSError:  # it has died: seen below
                        pass
            ready = set(wait([w.channel for w in workers]
                             + [w.process.sentinel for w in workers]))
            for worker in [w for w in workers
                           if w.channel in ready or w.process.sentinel in ready]:
                result = None
                try:  # a result sent just before it died is still in the pipe
                    if worker.job is not None and worker.channel.poll():
                        result = worker.channel.recv()
                except (EOFError, OSError):  # died, before or while sending
                    pass
                job, worker.job = worker.job, None
                if result is not None and job is not None:
                    worker.done += 1
                    record(job, result)
                if result is None or not worker.process.is_alive():
                    end(worker)
                    if result is None and job is not None:
                        record(job, Failure(job, _died(job, worker.process.exitcode),
                                            RenderError))
        for worker in list(workers):
            end(worker)
    finally:
        with signals_held():  # an interrupt, or an error here: no worker outlives it
            for worker in workers:
                worker.process.kill()  # at once, even mid-render
            for worker in workers:
                worker.process.join()
                worker.channel.close()
    return [results[job] for job in pending]


def _died(job: Job, status: int | None) -> str:
    """Why a worker ended without the result of the target it was rendering."""
    if status is not None and status < 0:
        names = {int(s): s.name for s in signal.Signals}
        return (
            f"worker for {job.label} died: signal {-status}"
            + (f" ({names[-status]})" if -status in names else "")
            + "; the system may have run out of memory (its OOM killer sends signal 9), "
            "or a library crashed; build again, with fewer jobs (-j 1) if memory is short"
        )
    return f"worker for {job.label} died: exit status {status}; its error, if any, is above"


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this worker when the main process dies (Linux's
    PR_SET_PDEATHSIG), even mid-render: a worker must not hold the project lock it
    inherited for the rest of a target nobody will write. Elsewhere the worker ends
    when it next reads its closed pipe."""
    import ctypes  # only in workers

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


def _serve(channel: Connection, inherited: list[Connection], parent: int) -> None:
    """A worker process: render each target sent, send back its result; end after
    WORKER_TARGETS targets or when the main process closes the pipe (or dies: at once,
    by _die_with). Ctrl-C is left to the main process, which ends the workers; SIGTERM
    ends a worker."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # start()
    for other in inherited:
        other.close()
    try:
        for _ in range(WORKER_TARGETS):
            channel.send(_run(channel.recv()))
    except (EOFError, OSError):  # the main process has closed the pipe, or died
        pass
