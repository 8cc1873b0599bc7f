"""Callbacks of the training loop and the rich progress bar.

A callback is any object with some of these methods (missing ones are skipped):
``on_train_begin(info: dict)``, ``on_step_end(step: int, logs: dict[str, float])``,
``on_epoch_end(epoch: int, row: dict[str, float]) -> bool | None`` (True asks the loop
to stop after this epoch), ``on_train_end(result: TrainResult)``. A plain callable is
called as ``on_epoch_end``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any


def dispatch(callbacks: Iterable[Any], event: str, *args: Any) -> bool:
    """Call ``event`` on every callback that has it; True when one asked to stop."""
    stop = False
    for cb in callbacks:
        fn = getattr(cb, event, None)
        if fn is None and event == "on_epoch_end" and callable(cb):
            fn = cb
        if fn is not None and fn(*args):
            stop = True
    return stop


class ProgressBar:
    """A rich bar: steps done, main loss, validation loss, elapsed and ETA.

    Redraws at most every ``refresh`` seconds so a fast loop is not slowed down."""

    def __init__(self, title: str = "training", refresh: float = 0.1) -> None:
        self.title = title
        self.refresh = refresh
        self._progress = None
        self._task = None
        self._last = 0.0
        self._fields: dict[str, str] = {"loss": "", "val": ""}

    def on_train_begin(self, info: dict[str, Any]) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]} {task.fields[val]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), transient=True)
        self._progress.start()
        self._task = self._progress.add_task(self.title, total=info["total_steps"],
                                             completed=info["step"], **self._fields)

    def on_step_end(self, step: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        if self._progress is None or now - self._last < self.refresh:
            return
        self._last = now
        if logs:
            self._fields["loss"] = f"{next(iter(logs.values())):.4g}"
        self._progress.update(self._task, completed=step, **self._fields)

    def on_epoch_end(self, epoch: int, row: dict[str, float]) -> None:
        if self._progress is None:
            return
        if "val_loss" in row:
            self._fields["val"] = f"(val {row['val_loss']:.4g})"
        self._progress.update(self._task, completed=int(row["step"]),
                              description=f"{self.title} epoch {epoch + 1}", **self._fields)

    def on_train_end(self, result: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
