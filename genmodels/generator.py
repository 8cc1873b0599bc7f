"""The user-facing object: a codec plus a model.

``Generator.fit`` takes a DataFrame, a CSV/Parquet path, a bundled dataset name or an
``(n, d)`` array; ``sample`` returns the same type. ``log_prob`` is per row and in the
data's own units (the codec's change of variables is accounted for). Sequence models
(text, music) take a corpus and sample documents: see :mod:`genmodels._sequence_generator`.
"""

from __future__ import annotations

import hashlib
import logging
import resource
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from genmodels.models.base import Model, get_model_class

log = logging.getLogger(__name__)


class Generator:
    """Codec + model. ``Generator("copula").fit(df, seed=0).sample(100, seed=1)``."""

    def __init__(self, model: str = "copula", *, metadata: Any = None,
                 codec_options: Mapping[str, Any] | None = None, **hyperparams: Any) -> None:
        if not isinstance(model, str):
            raise TypeError(f"model: expected a model name (str), got {type(model).__name__}")
        cls = get_model_class(model)
        self.model: Model = cls(**hyperparams)
        self.model_name = model
        self.hyperparams = dict(self.model.config)
        self.metadata = metadata
        self.codec_options = dict(codec_options or {})
        self.codec: Any = None
        self.fit_info_: dict[str, Any] | None = None
        self.metrics_: dict[str, Any] = {}
        self._input_type: str | None = None

    def __repr__(self) -> str:
        state = "fitted" if self.fitted else "not fitted"
        return f"Generator({self.model_name!r}, {state})"

    @property
    def fitted(self) -> bool:
        return self.fit_info_ is not None

    @property
    def capabilities(self):
        return self.model.capabilities

    # ------------------------------------------------------------------- fit
    def fit(self, data: Any, *, seed: int = 0, budget: float | None = None,
            progress: bool = False, run: Any = None, init_from: Any = None) -> Generator:
        """Fit the codec and the model on ``data``; returns ``self``.

        ``run``: options of a deep model's training run that are not hyperparameters —
        a :class:`genmodels.training.RunOptions` or a dict of its fields (device,
        threads, compile, checkpoint_dir, checkpoint_every, resume). ``progress`` also
        shows the training progress bar. The loss history goes to
        ``metrics_["training"]``.

        Sequence models (text, music) take a corpus instead (see
        :mod:`genmodels._sequence_generator`); ``init_from`` (a saved directory or a fitted
        Generator of the same model) then fine-tunes that model with its codec."""
        _check_seed(seed)
        run = _run_options(run, progress)
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float)
                                   or not budget > 0):
            raise ValueError(f"budget: got {budget!r}; allowed: a positive number of seconds")
        from genmodels import _sequence_generator as seq

        if seq.is_sequence(self):
            seq.fit_sequence(self, data, seed=seed, budget=budget, run=run, init_from=init_from)
            log.info("fitted %s in %.2fs", self.model_name, self.fit_info_["fit_seconds"])
            return self
        if init_from is not None:
            raise ValueError(f"init_from: only sequence models are fine-tuned; {self.model_name!r} "
                             "models tables")
        seq.check_table_input(self, data)
        frame, input_type = _as_input(data)
        start = time.perf_counter()
        with _Steps(progress, f"fitting {self.model_name}") as steps:
            steps.update("reading the columns")
            options = {**dict(self.model.capabilities.codec_options), **self.codec_options}
            codec = _make_codec(input_type, self.model.capabilities.inputs, self.metadata,
                                options)
            if input_type == "array" and codec.name != "array":
                frame, input_type = _array_frame(frame), "array_as_table"
            codec.fit(frame, seed=seed)
            steps.update("encoding")
            x = codec.encode(frame)
            steps.update(f"fitting {self.model_name} on {x.shape[0]:,} × {x.shape[1]} fields")
            remaining = None if budget is None else max(budget - (time.perf_counter() - start), 1e-3)
            if run.progress and self.model.capabilities.deep:
                steps.close()  # the Trainer shows its own bar (one live display at a time)
            self.model.fit(x, seed=seed, schema=codec.schema, budget=remaining, run=run)
        self.codec = codec
        self._input_type = input_type
        self._record_fit(start=start, seed=seed, run=run, info={
            "n_rows": int(x.shape[0]),
            "n_columns": _n_columns(frame),
            "n_fields": int(x.shape[1]),
            "data_fingerprint": fingerprint(frame),
            "input_type": input_type,
        })
        log.info("fitted %s in %.2fs", self.model_name, self.fit_info_["fit_seconds"])
        return self

    def _record_fit(self, *, start: float, seed: int, run: Any, info: Mapping[str, Any]) -> None:
        """``fit_info_`` (seed, time, memory, the data's ``info``, the run options of a
        deep model) and the training history in ``metrics_``: the same for every input."""
        self.fit_info_ = {
            "seed": int(seed),
            "fit_seconds": round(time.perf_counter() - start, 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            **info,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if self.model.capabilities.deep:
            self.fit_info_["run"] = run.to_json()
        result = getattr(self.model, "train_result_", None)
        if result is not None:
            self.metrics_["training"] = result.compact() if hasattr(result, "compact") else result

    # ---------------------------------------------------------------- sample
    def sample(self, n: int, *, seed: int = 0, condition: Mapping[str, Any] | None = None,
               **generation: Any) -> Any:
        """Draw ``n`` rows of the input's type; ``condition`` fixes column values exactly.

        Sequence models return ``n`` documents (a list of str for text: the new text
        after ``prompt``) and take ``prompt``, ``max_tokens``, ``temperature``,
        ``top_k``, ``top_p`` and ``on_text(row, text)`` (streaming)."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
            raise ValueError(f"n: got {n!r}; allowed: a positive integer")
        _check_seed(seed)
        from genmodels import _sequence_generator as seq

        if seq.is_sequence(self):
            if condition is not None:
                raise ValueError("condition: sequence models take a prompt, not a condition")
            return seq.sample_sequence(self, int(n), seed=seed, **_generation(generation))
        if generation:
            raise ValueError(f"{sorted(generation)[0]}: only sequence models take it; "
                             f"{self.model_name!r} models tables")
        if condition is not None and not isinstance(condition, Mapping):
            raise ValueError(f"condition: expected a mapping {{column: value}}, got {condition!r}")
        encoded = self.codec.encode_condition(condition) if condition else None
        if encoded and not self.model.capabilities.conditional:
            raise ValueError(f"condition: {self.model_name} cannot sample conditionally")
        x = self.model.sample(int(n), seed=seed, condition=encoded)
        out = self.codec.decode(x, condition=condition or None, seed=seed)
        if condition:
            self.codec.check_decoded(out, condition)
        if self._input_type == "array_as_table":
            return out.to_numpy(dtype=np.float64)
        return out

    # -------------------------------------------------------------- log_prob
    def log_prob(self, data: Any) -> np.ndarray:
        """Per-row log-density/mass in the data's own units: ``(n,)`` float64. Sequence
        models: exact ``log p(document, end)`` in nats per document."""
        self._check_fitted()
        from genmodels import _sequence_generator as seq

        if seq.is_sequence(self):
            return seq.log_prob_sequence(self, data)
        if not getattr(self.codec, "exact_units", True):
            raise ValueError(
                f"log_prob: {self.model_name} models categorical columns as continuous "
                "(one-hot or normal scores), so it has no probability in the data's units; "
                "use gmm, copula, bayesnet or independent for likelihoods on such tables")
        frame, input_type = _as_input(data)
        if self._input_type == "array_as_table" and input_type == "array":
            frame = _array_frame(frame)
        x = self.codec.encode(frame)
        return self.model.log_prob(x) + self.codec.log_det_jacobian(frame)

    def stream_nll(self, data: Any) -> dict[str, float]:
        """Sequence models: a held-out corpus read as one stream -> nats and bits per token
        and per character (text) or event (music), and perplexity."""
        self._check_fitted()
        from genmodels import _sequence_generator as seq

        if not seq.is_sequence(self):
            raise ValueError(f"stream_nll: {self.model_name!r} models tables; use log_prob")
        return seq.stream_nll(self, data)

    # ---------------------------------------------------------- save / load
    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write a directory: config.json, weights.safetensors, codec.json, metrics.json,
        card.md, manifest.json. Atomic; refuses an existing path unless ``force``."""
        from genmodels.saving import save_generator

        self._check_fitted()
        return save_generator(self, path, force=force)

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("this Generator is not fitted; call fit(data) first")


def load(path: str | Path) -> Generator:
    """Load a saved Generator; the manifest's hashes and format version are checked."""
    from genmodels.saving import load_generator

    return load_generator(path)


# ------------------------------------------------------------------ helpers
def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: got {seed!r}; allowed: a non-negative integer")


def _run_options(run: Any, progress: bool):
    """``run`` as RunOptions (None -> defaults; a dict -> its fields)."""
    from genmodels.training.options import RunOptions

    if run is None:
        return RunOptions(progress=bool(progress))
    if isinstance(run, Mapping):
        fields = set(RunOptions.__dataclass_fields__)
        unknown = sorted(set(run) - fields)
        if unknown:
            raise ValueError(f"run: unknown option {unknown[0]!r}; allowed: {', '.join(sorted(fields))}")
        return RunOptions(**{"progress": bool(progress), **run})
    if not isinstance(run, RunOptions):
        raise ValueError(f"run: expected RunOptions or a dict, got {type(run).__name__}")
    return run


_GENERATION = ("prompt", "max_tokens", "temperature", "top_k", "top_p", "on_text")


def _generation(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(_GENERATION))
    if unknown:
        raise TypeError(f"sample() got an unexpected keyword argument {unknown[0]!r}")
    return dict(options)


def _as_input(data: Any) -> tuple[Any, str]:
    """Return (frame or array, input type). Paths and dataset names become DataFrames."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data, "table"
    if isinstance(data, str | Path):
        from genmodels.codecs.tabular_io import read_table

        p = Path(data)
        if not p.exists() and isinstance(data, str) and "/" not in data and "." not in data:
            from genmodels import datasets

            if data in datasets.names():
                return datasets.load(data), "table"
        return read_table(p), "table"
    if isinstance(data, np.ndarray) or hasattr(data, "__array__"):
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[:, None]
        return arr, "array"
    raise TypeError(f"data: expected a DataFrame, a CSV/Parquet path, a dataset name or an "
                    f"(n, d) array; got {type(data).__name__}")


def _make_codec(input_type: str, inputs: str, metadata: Any, options: Mapping[str, Any]):
    from genmodels.codecs import ArrayCodec, TabularCodec

    if input_type == "array" and inputs != "discrete" and metadata is None:
        return ArrayCodec(inputs=inputs)
    return TabularCodec(metadata=metadata, inputs=inputs, **options)


def _array_frame(arr: np.ndarray):
    import pandas as pd

    return pd.DataFrame(np.asarray(arr, dtype=np.float64),
                        columns=[f"x{i}" for i in range(arr.shape[1])])


def _n_columns(frame: Any) -> int:
    return int(frame.shape[1])


def fingerprint(data: Any) -> str:
    """SHA-256 of a table's or array's content, column names and dtypes."""
    import pandas as pd

    h = hashlib.sha256()
    if isinstance(data, pd.DataFrame):
        h.update(repr([(str(c), str(t)) for c, t in data.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    else:
        arr = np.ascontiguousarray(data)
        h.update(repr((arr.shape, str(arr.dtype))).encode())
        h.update(arr.tobytes())
    return "sha256:" + h.hexdigest()


class _Steps:
    """A rich spinner with a step label, or nothing when ``enabled`` is False."""

    def __init__(self, enabled: bool, title: str) -> None:
        self.enabled = enabled
        self.title = title
        self._progress = None
        self._task = None

    def __enter__(self) -> _Steps:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      TimeElapsedColumn(), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.title)
        return self

    def update(self, step: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self.title}: {step}")

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __exit__(self, *exc: object) -> None:
        self.close()
