"""The parent side of ``gm.compare``: run one worker process per model, at most N at a
time, and stop those that overstay.

Each model gets its own ``ProcessPoolExecutor`` (spawn context, one process), so a
worker that must be killed breaks only its own pool. A worker reports its pid, phase
and deadline in a state file (see :mod:`genmodels._compare_worker`); it stops itself at
the fit + sample deadline, and the parent SIGKILLs it ``HARD_MARGIN`` seconds past any
deadline it missed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genmodels._compare_worker import read_state, run_model, worker_init

STARTUP_LIMIT = 180.0
"""Seconds a worker may take to start and read the split."""
EVAL_LIMIT = 900.0
"""Seconds a worker may take to evaluate and save a fitted model."""
HARD_MARGIN = 15.0
"""Seconds past a deadline before the worker is killed (it should have stopped itself)."""
POLL = 0.25


def schedule(tasks: list[dict], processes: int, finished: Callable[[dict, dict], None],
             worker: Callable[[dict], dict] = run_model) -> None:
    """Run ``worker(task)`` for every task, at most ``processes`` at a time, and call
    ``finished(task, out)`` as each ends; ``out["status"]`` is "ok", "failed" (also when
    the process died) or "timeout" (also when it was killed). Workers still running
    when this returns abnormally (an exception, Ctrl-C) are killed."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending, running = list(tasks), {}
    try:
        while pending or running:
            while pending and len(running) < processes:
                task = pending.pop(0)
                running[task["name"]] = _Slot(task, worker)
            futures = {s.future: name for name, s in running.items()}
            ready, _ = wait(futures, timeout=POLL, return_when=FIRST_COMPLETED)
            for fut in ready:
                slot = running.pop(futures[fut])
                finished(slot.task, slot.collect())
            for name in list(running):
                out = running[name].check_deadline()
                if out is not None:
                    finished(running.pop(name).task, out)
    finally:
        for slot in running.values():
            slot.kill()


class _Slot:
    """One model's worker: a ProcessPoolExecutor (spawn, one process) and its future."""

    def __init__(self, task: dict, worker: Callable[[dict], dict]) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.state = Path(task["dir"]) / ".work" / f"{task['name']}.json"
        self.task = {**task, "state": str(self.state)}
        self.state.parent.mkdir(parents=True, exist_ok=True)
        self.state.unlink(missing_ok=True)
        self.started = time.time()
        self.pool = ProcessPoolExecutor(max_workers=1,
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=worker_init,
                                        initargs=(str(self.state), STARTUP_LIMIT))
        self.future = self.pool.submit(worker, self.task)

    def collect(self) -> dict[str, Any]:
        try:
            out = self.future.result()
        except Exception as e:  # the process died (killed, out of memory, crashed)
            what = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            out = {"status": "failed", "error": f"the worker process died ({what})"}
        self.pool.shutdown(wait=True)
        return out

    def check_deadline(self) -> dict[str, Any] | None:
        """Kill the worker if it is past its phase's deadline; return its "timeout"."""
        state = read_state(self.state)
        now = time.time()
        if state is None:
            if now - self.started < STARTUP_LIMIT + HARD_MARGIN:
                return None
            message = f"the worker did not start within {STARTUP_LIMIT:.0f} s"
        else:
            deadline = state.get("deadline")
            if deadline is None or now < deadline + HARD_MARGIN:
                return None
            message = _timeout_message(self.task, state.get("phase", "?"))
        self.kill()
        return {"status": "timeout", "error": message}

    def kill(self) -> None:
        state = read_state(self.state)
        if state is not None:
            _kill_child(int(state["pid"]))
        self.pool.shutdown(wait=False, cancel_futures=True)


def _kill_child(pid: int) -> None:
    """SIGKILL ``pid`` if it is still a child of this process (never anything else)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.ppid() == os.getpid():
            proc.kill()
            proc.wait(timeout=10)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        pass


def _timeout_message(task: dict, phase: str) -> str:
    if phase in ("fit", "sample"):
        return (f"fit + sample took longer than the budget {task['budget']:.0f} s + grace "
                f"{task['limit'] - task['budget']:.0f} s; the worker was stopped")
    if phase in ("evaluate", "save"):
        return f"{phase} took longer than {task['eval_limit']:.0f} s; the worker was stopped"
    return f"the worker did not start within {STARTUP_LIMIT:.0f} s"
