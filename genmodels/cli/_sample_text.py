"""``genmodels sample`` for sequence models: stream text to the terminal, or write one
file per sample (``sample_000.txt``, or ``.mid`` for music) into a directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from genmodels.cli._common import atomic_file, print_json


def sample_sequence(gen: Any, *, n: int | None, out: str | None, seed: int, force: bool,
                    as_json: bool, conditions: list[str] | None,
                    generation: dict[str, Any]) -> None:
    """Generate ``n`` documents from ``gen`` (see the module docstring)."""
    n = 1 if n is None else n
    if n <= 0:
        raise ValueError(f"-n: got {n}; allowed: a positive integer")
    if conditions:
        raise ValueError("--condition: sequence models take --prompt, not a condition")
    max_tokens = generation["max_tokens"]
    if max_tokens <= 0:
        raise ValueError(f"--max-tokens: got {max_tokens}; allowed: a positive integer")
    if out == "-":
        out = None
    prompt = generation["prompt"] or ""
    if prompt:
        gen.codec.encode_prompt(prompt)  # an unknown character fails before any output
    prompt = prompt if getattr(gen.codec, "input_type", "text") == "text" else ""
    if out is None and getattr(gen.codec, "input_type", "text") != "text":
        raise ValueError(f"-o: required for a {gen.codec.input_type} model (a directory for "
                         "the sample files)")
    if out is None:
        docs = _stream(gen, n, seed, generation, show=not as_json)
        if as_json:
            print_json({"samples": [prompt + d if isinstance(d, str) else None for d in docs],
                        "seed": seed, "model": gen.model_name})
        return
    files = _paths(gen, Path(out), n, force)
    docs = gen.sample(n, seed=seed, **generation)
    for path, doc in zip(files, docs, strict=True):
        _write(doc, prompt, path)
    if as_json:
        print_json({"files": [str(p) for p in files], "seed": seed, "model": gen.model_name})
    else:
        print(f"wrote {n} samples from {gen.model_name} (seed {seed}) to {out}/"
              f"{files[0].name}" + (f" … {files[-1].name}" if n > 1 else ""))


def _stream(gen: Any, n: int, seed: int, generation: dict[str, Any], show: bool) -> list[Any]:
    """Draw the ``n`` samples as ``-o DIR`` would; the first is printed as it is generated,
    the others when it is done (so rows never mix)."""
    prompt = generation["prompt"] or ""

    def on_text(row: int, text: str) -> None:
        if row == 0:
            sys.stdout.write(text)
            sys.stdout.flush()

    if show:
        sys.stdout.write(("--- sample 0 ---\n" if n > 1 else "") + prompt)
    docs = gen.sample(n, seed=seed, on_text=on_text if show else None, **generation)
    if show:
        sys.stdout.write("\n")
        for i, doc in enumerate(docs[1:], start=1):
            sys.stdout.write(f"--- sample {i} ---\n{prompt}{doc}\n")
        sys.stdout.flush()
    return docs


def _paths(gen: Any, out: Path, n: int, force: bool) -> list[Path]:
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o: {str(out)!r} is a file; allowed: a directory for the samples")
    suffix = getattr(gen.codec, "file_suffix", None) or \
        {"music": ".mid"}.get(getattr(gen.codec, "input_type", "text"), ".txt")
    files = [out / f"sample_{i:03d}{suffix}" for i in range(n)]
    existing = [f for f in files if f.exists()]
    if existing and not force:
        raise FileExistsError(f"-o: {str(existing[0])!r} already exists; pass --force to "
                              "replace the samples")
    out.mkdir(parents=True, exist_ok=True)
    return files


def _write(doc: Any, prompt: str, path: Path) -> None:
    """Text as UTF-8 (prompt + continuation); other documents through their own writer
    (``dump_midi(path)`` for a symusic Score, else ``save(path)``)."""
    with atomic_file(path) as tmp:
        if isinstance(doc, str):
            tmp.write_text(prompt + doc, "utf-8")
        elif hasattr(doc, "dump_midi"):
            doc.dump_midi(str(tmp))
        else:
            doc.save(tmp)
