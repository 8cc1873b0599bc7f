"""What a training run needs besides hyperparameters, and what it gives back.

Nothing here imports torch: the Generator and the CLI build :class:`RunOptions`
without paying for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class RunOptions:
    """Options of one training run that are not hyperparameters of the model.

    ``checkpoint_dir``: where ``last.pt`` is written every ``checkpoint_every`` steps
    (0 = only at the end of an interrupted run) and on SIGINT/SIGTERM; None = no
    checkpoints. ``resume``: continue from ``checkpoint_dir/last.pt`` when it exists.
    ``progress``: a rich progress bar (rank 0 only). ``compile``: ``torch.compile`` the
    modules' forward. ``threads``: torch intra-op threads during the run (None = automatic:
    one for small networks, where more threads only add synchronisation cost, else
    torch's default; see :mod:`genmodels.training.threads`)."""

    device: str = "auto"
    threads: int | None = None
    compile: bool = False
    progress: bool = False
    checkpoint_dir: str | Path | None = None
    checkpoint_every: int = 0
    resume: bool = False
    handle_signals: bool = True

    def __post_init__(self) -> None:
        if self.device not in DEVICES and not str(self.device).startswith(("cuda:", "mps:")):
            raise ValueError(f"device: got {self.device!r}; allowed: {', '.join(DEVICES)} "
                             "or cuda:N")
        if self.threads is not None and (isinstance(self.threads, bool)
                                         or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise ValueError(f"threads: got {self.threads!r}; allowed: a positive integer or None")
        if (isinstance(self.checkpoint_every, bool) or not isinstance(self.checkpoint_every, int)
                or self.checkpoint_every < 0):
            raise ValueError(f"checkpoint_every: got {self.checkpoint_every!r}; allowed: an "
                             "integer >= 0 (steps; 0 = only when interrupted)")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume: needs checkpoint_dir (where the checkpoint to resume is)")
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = Path(self.checkpoint_dir)

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "threads": self.threads, "compile": self.compile,
                "checkpoint_dir": None if self.checkpoint_dir is None else str(self.checkpoint_dir),
                "checkpoint_every": self.checkpoint_every, "resume": self.resume}


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    ``history``: one dict per epoch (``epoch``, ``step``, the mean of every scalar the
    task logged, ``val_loss`` when there is a validation split, ``lr``, ``seconds``).
    ``stopped``: "done", "budget", "early_stop" or "callback". ``best_epoch``: the epoch
    whose weights the modules hold at the end (the last one without validation).
    """

    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    stopped: str = "done"
    best_epoch: int = 0
    resumed_from: int | None = None
    seconds: float = 0.0

    def compact(self) -> dict[str, Any]:
        """A JSON-able summary for metrics.json and the run registry."""
        keys = sorted({k for row in self.history for k in row})
        return {"stopped": self.stopped, "steps": self.steps, "best_epoch": self.best_epoch,
                "epochs": len(self.history), "resumed_from_step": self.resumed_from,
                "seconds": round(self.seconds, 3),
                "history": {k: [row.get(k) for row in self.history] for k in keys}}


class TrainingDiverged(RuntimeError):  # noqa: N818 - the name users read
    """The loss or the gradients became NaN/Inf; the modules hold the last good weights."""


class TrainingInterrupted(KeyboardInterrupt):  # noqa: N818
    """SIGINT/SIGTERM stopped the run after writing a checkpoint (``.checkpoint``)."""

    def __init__(self, message: str, checkpoint: Path | None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
