"""Training hyperparameters shared by the neural language models (``transformer``,
``lstm``); torch-free so that listing models stays cheap."""

from __future__ import annotations

from typing import Any

from genmodels.models.base import Param, nonneg_number, positive_int, positive_number


def lm_params(lr: float = 5e-3, optimizer: str = "adamw") -> dict[str, Any]:
    """Hyperparameters of training shared by the neural language models (``lr``: the
    default peak AdamW learning rate; ``optimizer``: the default optimizer)."""
    def opt_pos(v: Any) -> bool:
        return v is None or positive_number(v)

    return {
        "batch_size": Param(16, int, positive_int, "a positive integer", "windows per step"),
        "steps": Param(2000, int, positive_int, "a positive integer",
                       "optimizer steps (with a validation split, rounded up to a "
                       "multiple of the number of evaluations); with a budget, the most"),
        "lr": Param(lr, float, positive_number, "a positive number", "peak AdamW learning rate"),
        "optimizer": Param(optimizer, str, lambda v: v in ("adamw", "muon"), "'adamw' or 'muon'",
                           "adamw, or muon: Muon for the hidden matrices (orthogonalised "
                           "momentum updates), AdamW for embeddings, output layer and vectors"),
        "muon_lr": Param(0.02, float, positive_number, "a positive number",
                         "peak Muon learning rate (optimizer='muon')"),
        "warmup": Param(100, int, lambda v: isinstance(v, int) and v >= 0, "an integer >= 0",
                        "linear warm-up steps"),
        "schedule": Param("cosine", str, lambda v: v in ("constant", "cosine"),
                          "'constant' or 'cosine'",
                          "after warm-up: constant, or cosine decay to 0 at the end of the run "
                          "(the last step, or the budget)"),
        "weight_decay": Param(0.1, float, nonneg_number, "a number >= 0",
                              "AdamW weight decay (matrices only)"),
        "beta2": Param(0.99, float, lambda v: 0 < v < 1, "a number in (0, 1)", "AdamW beta2"),
        "grad_clip": Param(1.0, (int, float, type(None)), opt_pos, "a positive number or null",
                           "clip the gradient norm (null: off)"),
        "val_fraction": Param(0.05, float, lambda v: 0 <= v < 0.5, "a number in [0, 0.5)",
                              "share of the stream's tail held out; the best weights by "
                              "validation loss are kept (0: the last)"),
        "eval_every": Param(250, int, positive_int, "a positive integer",
                            "steps between validation losses"),
    }
