"""The contract every model keeps, and the registry that finds models by name.

A model works on encoded arrays only: ``x`` is an ``(n, d)`` float64 array whose
columns are described by a :class:`Schema` (continuous values, or integer codes of a
discrete variable). It knows nothing of files, CLIs or DataFrames; the codec turns
real data into such arrays and back.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

Kind = Literal["continuous", "discrete"]
Inputs = Literal["continuous", "discrete", "mixed"]


@dataclass(frozen=True)
class Field:
    """One encoded column: a continuous value, or a code ``0..levels-1`` of a discrete one."""

    name: str
    kind: Kind
    levels: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("continuous", "discrete"):
            raise ValueError(f"Field.kind: got {self.kind!r}; allowed: 'continuous', 'discrete'")
        if self.kind == "discrete" and self.levels < 1:
            raise ValueError(f"Field {self.name!r}: a discrete field needs levels >= 1, got {self.levels}")


@dataclass(frozen=True)
class Schema:
    """The layout of an encoded array: one :class:`Field` per column."""

    fields: tuple[Field, ...]

    @classmethod
    def continuous(cls, d: int) -> Schema:
        return cls(tuple(Field(f"x{i}", "continuous") for i in range(d)))

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def continuous_idx(self) -> list[int]:
        return [i for i, f in enumerate(self.fields) if f.kind == "continuous"]

    @property
    def discrete_idx(self) -> list[int]:
        return [i for i, f in enumerate(self.fields) if f.kind == "discrete"]

    @property
    def levels(self) -> list[int]:
        return [f.levels for f in self.fields]

    def to_json(self) -> list[dict]:
        return [dataclasses.asdict(f) for f in self.fields]

    @classmethod
    def from_json(cls, data: Sequence[Mapping]) -> Schema:
        return cls(tuple(Field(**f) for f in data))


@dataclass(frozen=True)
class Capabilities:
    """What a model can do; the Generator, CLI and tests read these instead of guessing."""

    exact_likelihood: bool
    """``log_prob`` is the exact log-density/mass (False: a bound or an approximation)."""
    conditional: bool
    """``sample(condition=...)`` is supported natively (not only by rejection)."""
    inputs: Inputs
    """What the model consumes: continuous fields, discrete fields, or both."""
    modalities: tuple[str, ...] = ("table", "vector")
    deep: bool = False
    likelihood_note: str = ""
    """What ``log_prob`` means when it is not exact (shown in ``genmodels models``)."""
    codec_options: tuple[tuple[str, Any], ...] = ()
    """Codec settings this model works best with (user's codec_options override them)."""

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Param:
    """A declared hyperparameter: default, type and a validity check with its description."""

    default: Any
    type: type | tuple[type, ...]
    check: Callable[[Any], bool] = lambda v: True
    allowed: str = ""
    help: str = ""
    nullable: bool = False
    """None is allowed as well (always so when the default is None)."""


def positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def nonneg_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) and v >= 0


def positive_number(v: Any) -> bool:
    return nonneg_number(v) and v > 0


class Model:
    """Base of every generative model. Subclasses declare ``name``, ``capabilities`` and
    ``params``, implement ``_fit``, ``_sample``, ``_log_prob``, ``state`` and ``load_state``.

    ``__init__`` only stores and validates hyperparameters; fitted state ends in ``_``.
    ``condition`` in tensor space is a mapping from encoded column index to its value.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    params: ClassVar[dict[str, Param]] = {}
    description: ClassVar[str] = ""

    def __init__(self, **hyperparams: Any) -> None:
        unknown = sorted(set(hyperparams) - set(self.params))
        if unknown:
            raise ValueError(
                f"{self.name}: unknown hyperparameter {unknown[0]!r}; "
                f"allowed: {', '.join(sorted(self.params)) or '(none)'}"
            )
        self.config: dict[str, Any] = {}
        for key, spec in self.params.items():
            value = hyperparams.get(key, spec.default)
            if isinstance(value, float) and spec.type is int and value.is_integer():
                value = int(value)
            if isinstance(value, int) and not isinstance(value, bool) and spec.type is float:
                value = float(value)
            ok_type = (value is None and (spec.default is None or spec.nullable)
                       or isinstance(value, spec.type))
            if not ok_type or (value is not None and not spec.check(value)):
                raise ValueError(
                    f"{self.name}: hyperparameter {key!r} got {value!r}; "
                    f"allowed: {spec.allowed or _type_name(spec.type)}"
                )
            self.config[key] = value
        self.schema_: Schema | None = None

    # ----------------------------------------------------------------- public API
    def fit(
        self,
        x: np.ndarray,
        *,
        seed: int,
        schema: Schema | None = None,
        condition: np.ndarray | None = None,
        callbacks: Iterable[Any] = (),
        budget: float | None = None,
        run: Any = None,
    ) -> Model:
        """Fit to ``x: (n, d)`` described by ``schema`` (default: all continuous).

        ``run`` carries options of the training run that are not hyperparameters
        (device, threads, checkpoints, resume, progress); deep models read it as
        ``self.run_``, statistical models ignore it."""
        x = self._check_x(x, schema if schema is not None else Schema.continuous(np.shape(x)[1]))
        schema = schema if schema is not None else Schema.continuous(x.shape[1])
        _check_seed(seed)
        if x.shape[0] < 2:
            raise ValueError(f"x: need at least 2 rows to fit {self.name}, got {x.shape[0]}")
        if self.capabilities.inputs == "continuous" and schema.discrete_idx:
            raise ValueError(f"{self.name} takes continuous fields only; got discrete fields")
        if self.capabilities.inputs == "discrete" and schema.continuous_idx:
            raise ValueError(f"{self.name} takes discrete fields only; got continuous fields")
        self.schema_ = schema
        self.run_ = run
        self._deadline = None if budget is None else time.perf_counter() + budget
        self._fit(x, np.random.default_rng(seed), budget=budget, callbacks=tuple(callbacks))
        return self

    def _budget_left(self, reserve: float = 0.0) -> float | None:
        """Seconds of the fit's wall-clock ``budget`` still left for training (None = no
        budget), less ``reserve`` for work after it. A deep model passes this to its
        Trainer after its own preparation (mode fitting, a prior) so that the whole fit,
        not only the training loop, keeps to the budget. Never below a millisecond: the
        Trainer still takes one step."""
        deadline = getattr(self, "_deadline", None)
        if deadline is None:
            return None
        return max(deadline - time.perf_counter() - reserve, 1e-3)

    def sample(self, n: int, *, seed: int, condition: Mapping[int, float] | None = None) -> np.ndarray:
        """Draw ``n`` rows: ``(n, d)`` float64. ``condition`` fixes encoded columns."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
            raise ValueError(f"n: got {n!r}; allowed: a positive integer")
        _check_seed(seed)
        cond = self._check_condition(condition)
        rng = np.random.default_rng(seed)
        out = self._sample(int(n), rng, cond) if cond else self._sample(int(n), rng, None)
        assert out.shape == (n, len(self.schema_)), (out.shape, n)
        return out

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Per-row log-density (continuous fields) times mass (discrete fields): ``(n,)``."""
        self._check_fitted()
        x = self._check_x(x, self.schema_)
        return self._log_prob(x)

    def state(self) -> dict[str, np.ndarray]:
        """Fitted arrays, for safetensors. The rest of the state lives in :meth:`extra`."""
        raise NotImplementedError

    def extra(self) -> dict[str, Any]:
        """JSON-serialisable fitted state that is not an array (structure, names)."""
        return {}

    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        raise NotImplementedError

    @property
    def fitted(self) -> bool:
        return self.schema_ is not None

    # ------------------------------------------------------------ to implement
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        raise NotImplementedError

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _sample_by_rejection(self, n: int, rng: np.random.Generator, condition: dict[int, float],
                             *, floor: float = 1e-3, batch: int | None = None,
                             draw: Callable[[int], np.ndarray] | None = None,
                             hint: str = "") -> np.ndarray:
        """Exact conditional sampling for conditions a model cannot meet natively: draw
        batches (``draw(size)``, by default unconditional ``_sample``), keep rows whose
        discrete fields equal ``condition``. Raises if a condition is on a continuous
        field (probability zero) or the acceptance rate falls below ``floor``; ``hint``
        is appended to that message."""
        cont = [j for j in condition if self.schema_.fields[j].kind == "continuous"]
        if cont:
            raise ValueError(f"condition: {self.name} cannot condition on the continuous field "
                             f"{self.schema_.fields[cont[0]].name!r} (it has probability zero "
                             "under rejection sampling); condition on a categorical column")
        if draw is None:
            def draw(size: int) -> np.ndarray:
                return self._sample(size, rng, None)
        idx = np.fromiter(condition, dtype=int)
        want = np.array([condition[j] for j in idx])
        kept: list[np.ndarray] = []
        drawn = got = 0
        batch = batch or max(4 * n, 1024)
        while got < n:
            x = draw(batch)
            ok = (x[:, idx] == want).all(axis=1)
            kept.append(x[ok])
            drawn, got = drawn + batch, got + int(ok.sum())
            if drawn >= 20_000 and got / drawn < floor:
                names = ", ".join(self.schema_.fields[j].name for j in idx)
                raise ValueError(f"condition: on {names} only {got} of {drawn:,} draws met it "
                                 f"(acceptance below {floor:g}); the condition is too rare "
                                 f"for {self.name}{hint}")
        return np.concatenate(kept)[:n]

    # ----------------------------------------------------------------- checks
    def _check_fitted(self) -> None:
        if self.schema_ is None:
            raise ValueError(f"{self.name}: the model is not fitted; call fit() first")

    def _check_x(self, x: Any, schema: Schema) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"x: expected a 2-D array (n, d), got shape {arr.shape}")
        if arr.shape[1] != len(schema):
            raise ValueError(f"x: expected {len(schema)} columns, got {arr.shape[1]}")
        if not np.isfinite(arr).all():
            raise ValueError("x: contains NaN or infinite values; the codec must encode them")
        for j in schema.discrete_idx:
            col = arr[:, j]
            k = schema.fields[j].levels
            if ((col < 0) | (col >= k) | (col != np.round(col))).any():
                raise ValueError(f"x: column {j} ({schema.fields[j].name!r}) must hold codes 0..{k - 1}")
        return arr

    def _check_condition(self, condition: Mapping[int, float] | None) -> dict[int, float]:
        if not condition:
            return {}
        schema = self.schema_
        out: dict[int, float] = {}
        for j, v in condition.items():
            if not isinstance(j, int | np.integer) or not 0 <= j < len(schema):
                raise ValueError(f"condition: column index {j!r} is not in 0..{len(schema) - 1}")
            f = schema.fields[j]
            v = float(v)
            if not np.isfinite(v):
                raise ValueError(f"condition: value for {f.name!r} must be finite, got {v}")
            if f.kind == "discrete" and (v != int(v) or not 0 <= v < f.levels):
                raise ValueError(f"condition: {f.name!r} takes codes 0..{f.levels - 1}, got {v}")
            out[int(j)] = v
        return out


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: got {seed!r}; allowed: a non-negative integer")


# --------------------------------------------------------------------- registry
_REGISTRY: dict[str, type[Model]] = {}


def register(cls: type[Model]) -> type[Model]:
    """Class decorator: make a model available by its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"model name {cls.name!r} is registered twice")
    if not inspect.isabstract(cls):
        _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    # Importing the package's model modules registers them (one place, no lists to edit).
    import importlib
    import pkgutil

    import genmodels.models as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"genmodels.models.{info.name}")


def registry(modality: str | None = None) -> dict[str, type[Model]]:
    """All registered models by name, sorted; only those for ``modality`` (e.g. "table",
    "text", "music") when given."""
    _load_builtin()
    return {k: v for k, v in sorted(_REGISTRY.items())
            if modality is None or modality in v.capabilities.modalities}


def get_model_class(name: str) -> type[Model]:
    models = registry()
    if name not in models:
        raise ValueError(f"model: unknown name {name!r}; allowed: {', '.join(models)}")
    return models[name]


def make_model(name: str, **hyperparams: Any) -> Model:
    return get_model_class(name)(**hyperparams)

