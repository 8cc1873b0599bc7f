"""Save and load a Generator as a directory of JSON + safetensors, never a pickle.

Layout: ``config.json`` (format version, package version, model name, hyperparameters,
schema, fitted structure, fit info), ``weights.safetensors`` (the model's arrays),
``codec.json``, ``metrics.json``, ``card.md`` and ``manifest.json`` (SHA-256 of each).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genmodels.files import atomic_directory, dumps
from genmodels.models.base import Schema, get_model_class
from genmodels.provenance.manifest import ManifestError, verify_manifest, write_manifest

if TYPE_CHECKING:
    from genmodels.generator import Generator

FORMAT = "genmodels.generator"
FORMAT_VERSION = 1
FILES = ("config.json", "weights.safetensors", "codec.json")


def save_generator(gen: Generator, path: str | Path, *, force: bool = False) -> Path:
    """Write ``gen`` to the directory ``path`` atomically; see the module docstring."""
    from safetensors.numpy import save_file

    import genmodels

    path = Path(path)
    model = gen.model
    state = {k: np.ascontiguousarray(v) for k, v in model.state().items()}
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": genmodels.__version__,
        "model": gen.model_name,
        "hyperparams": gen.hyperparams,
        "capabilities": model.capabilities.to_json(),
        "schema": model.schema_.to_json(),
        "model_extra": model.extra(),
        "input_type": gen._input_type,
        "fit": gen.fit_info_,
    }
    with atomic_directory(path, force=force) as tmp:
        save_file(state, str(tmp / "weights.safetensors"), metadata={"format": FORMAT})
        (tmp / "config.json").write_text(dumps(config), "utf-8")
        (tmp / "codec.json").write_text(dumps(gen.codec.to_json()), "utf-8")
        (tmp / "metrics.json").write_text(dumps(gen.metrics_), "utf-8")
        (tmp / "card.md").write_text(model_card(gen), "utf-8")
        write_manifest(tmp)
    return path


def load_generator(path: str | Path) -> Generator:
    """Rebuild a Generator from ``path``; refuse a changed, foreign or newer directory."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from genmodels.codecs.base import codec_from_json
    from genmodels.generator import Generator

    path = Path(path)
    if not path.exists():
        raise ValueError(f"path: {str(path)!r} does not exist")
    if not path.is_dir():
        raise ValueError(f"path: {str(path)!r} is a file; a saved model is a directory")
    verify_manifest(path)
    for name in FILES:
        if not (path / name).is_file():
            raise ManifestError(f"{path / name}: missing; {str(path)!r} is not a saved model")
    config = _read_json(path / "config.json")
    if config.get("format") != FORMAT:
        raise ManifestError(f"{path / 'config.json'}: format {config.get('format')!r} is not "
                            f"{FORMAT!r}")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ManifestError(f"{path / 'config.json'}: format version {version!r}; this genmodels "
                            f"reads version {FORMAT_VERSION} (upgrade genmodels to load it)")
    gen = Generator(config["model"], **config["hyperparams"])
    gen.model.schema_ = Schema.from_json(config["schema"])
    try:
        state = load_file(str(path / "weights.safetensors"))
    except (SafetensorError, OSError) as e:
        raise ManifestError(f"{path / 'weights.safetensors'}: unreadable ({e})") from None
    gen.model.load_state(state, config.get("model_extra", {}))
    gen.codec = codec_from_json(_read_json(path / "codec.json"))
    gen._input_type = config.get("input_type")
    gen.fit_info_ = config.get("fit") or {}
    if (path / "metrics.json").is_file():
        gen.metrics_ = _read_json(path / "metrics.json")
    return gen


def read_config(path: str | Path) -> dict:
    """The saved ``config.json`` after checking the manifest (for ``genmodels info``)."""
    path = Path(path)
    verify_manifest(path)
    return _read_json(path / "config.json")


def _read_json(file: Path) -> dict:
    try:
        return json.loads(file.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{file}: not valid JSON ({e})") from None


def model_card(gen: Generator) -> str:
    """A short model card: what was fitted on what, what it can do, and its limits."""
    info = gen.fit_info_ or {}
    caps = gen.model.capabilities
    cls = get_model_class(gen.model_name)
    if "n_tokens" in info:  # a sequence model (text, music)
        data = [f"- {info.get('input_type')} corpus: {info.get('n_documents')} documents, "
                f"{info.get('n_tokens'):,} tokens, vocabulary {info.get('vocab_size')} "
                f"({info.get('tokenizer')})"]
        use = ["Generated text or music for exploration, teaching and augmentation. A model",
               "can reproduce passages of its training corpus verbatim; check the n-gram",
               "copy rate (`genmodels evaluate`) before publishing its output."]
    else:
        data = [f"- rows: {info.get('n_rows')}, columns: {info.get('n_columns')}"]
        use = ["Synthetic rows for exploration, testing and augmentation. Synthetic data can leak",
               "information about the training rows; evaluate privacy before sharing it."]
    lines = [
        f"# Model card: {gen.model_name}",
        "",
        f"{cls.description}",
        "",
        "## Training data",
        *data,
        f"- fingerprint: `{info.get('data_fingerprint')}`",
        f"- seed: {info.get('seed')}, fit time: {info.get('fit_seconds')} s",
        "",
        "## Hyperparameters",
        *[f"- `{k}` = `{v!r}`" for k, v in gen.hyperparams.items()],
        "",
        "## Capabilities",
        f"- inputs: {caps.inputs}; conditional sampling: {caps.conditional}",
        f"- exact likelihood: {caps.exact_likelihood}"
        + (f" ({caps.likelihood_note})" if caps.likelihood_note else ""),
        "",
        "## Intended use and limits",
        *use,
        "",
    ]
    if gen.metrics_:
        lines += ["## Metrics", *[f"- {k}: {_short(v)}" for k, v in gen.metrics_.items()], ""]
    return "\n".join(lines)


def _short(value: object) -> str:
    """One readable line for the card; long structures (training curves) are summarised."""
    if isinstance(value, dict):
        scalars = {k: v for k, v in value.items() if isinstance(v, int | float | str | bool)}
        rest = len(value) - len(scalars)
        text = ", ".join(f"{k}={v}" for k, v in scalars.items())
        return text + (f" (+{rest} series in metrics.json)" if rest else "")
    if isinstance(value, list):
        return f"{len(value)} values (see metrics.json)"
    return str(value)
