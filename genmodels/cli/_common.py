"""Shared pieces of the CLI: error handling, output, and parsing of option values.

Exit codes: 0 ok, 2 a usage error (a bad flag, or a ``ValueError`` raised by the library
for a value the user gave), 1 any other failure. Errors are one line on stderr,
``error: <message>``; the traceback only with ``genmodels --debug``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    return typer.Exit(code)


def one_line(message: str) -> str:
    return " ".join(str(message).split()) or "unknown error"


def _debug(ctx: typer.Context | None) -> bool:
    obj = ctx.find_root().obj if ctx is not None else None
    return bool(isinstance(obj, dict) and obj.get("debug"))


@contextmanager
def guard(ctx: typer.Context | None) -> Iterator[None]:
    """Turn exceptions into an exit code and a one-line message (traceback if --debug).

    ``ValueError`` (the library's "bad input") and ``FileExistsError`` (an output
    that exists, without --force) are usage errors: exit 2. The rest: exit 1.
    """
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:  # `genmodels sample -o - | head`: the reader left; not an error
        _silence_stdout()
        raise typer.Exit(EXIT_FAILURE) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except (ValueError, FileExistsError) as e:
        if _debug(ctx):
            traceback.print_exc()
        raise fail(str(e), EXIT_USAGE) from None
    except Exception as e:  # the CLI's last line of defence: one line, no traceback
        if _debug(ctx):
            traceback.print_exc()
        raise fail(describe(e), EXIT_FAILURE) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def describe(e: BaseException) -> str:
    """A one-line description of an unexpected exception."""
    if isinstance(e, OSError) or isinstance(e, RuntimeError) and str(e):
        return str(e)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def show_progress(as_json: bool) -> bool:
    """Spinners and bars only for a person watching: stdout is a terminal, no --json."""
    return not as_json and sys.stdout.isatty()


def print_json(obj: Any) -> None:
    from genmodels.files import dumps

    sys.stdout.write(dumps(obj))
    sys.stdout.flush()


def console(stderr: bool = False):
    """A rich console on the current stdout/stderr (made per call: tests swap streams).
    Markup is off: names and descriptions are printed as they are."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, markup=False)


# ----------------------------------------------------------------- parsing
def parse_value(text: str) -> Any:
    """JSON when it parses (ints, floats, bools, null, lists), else the string itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(items: list[str] | None, option: str,
                metavar: str = "NAME=VALUE") -> dict[str, Any]:
    """``["k=v", ...]`` -> ``{k: parse_value(v)}``; a clear error for a malformed item."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{option}: got {item!r}; allowed: {metavar}")
        if key in out:
            raise ValueError(f"{option}: {key!r} is given twice")
        out[key] = parse_value(value)
    return out


_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_BUDGET_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)", re.IGNORECASE)


def parse_budget(text: str | None) -> float | None:
    """``"90s"``, ``"5m"``, ``"1h"``, ``"1h30m"`` or plain seconds -> seconds (> 0)."""
    if text is None:
        return None
    s = text.strip().lower()
    parts = _BUDGET_PART.findall(s)
    if not s or _BUDGET_PART.sub("", s).strip() or (len(parts) > 1 and not all(u for _, u in parts)):
        raise ValueError(f"--budget: got {text!r}; allowed: seconds or a duration such as "
                         "90s, 5m, 1h, 1h30m")
    seconds = sum(float(num) * _UNIT_SECONDS[unit or "s"] for num, unit in parts)
    if not seconds > 0:
        raise ValueError(f"--budget: got {text!r}; allowed: a positive duration")
    return seconds


def table_format(path: str, option: str = "-o") -> str:
    """``"csv"`` or ``"parquet"`` from the file's extension (``-`` is CSV on stdout)."""
    if path == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{option}: {path!r} has extension {suffix or '(none)'!r}; allowed: "
                         f"{', '.join(TABLE_SUFFIXES)} or '-' for CSV on stdout")
    return TABLE_SUFFIXES[suffix]


# ----------------------------------------------------------------- data in/out
def read_data(spec: str) -> tuple[Any, str]:
    """DATA argument -> (DataFrame, label): an existing CSV/Parquet file (label: its
    absolute path) or a bundled dataset name (label: the name)."""
    import genmodels as gm

    path = Path(spec)
    if path.is_dir():
        raise ValueError(f"DATA: {spec!r} is a directory; allowed: a CSV/Parquet file or a "
                         "bundled dataset name")
    if path.exists():
        return gm.read_table(path), str(path.resolve())
    names = gm.datasets.names()
    if spec in names:
        return gm.datasets.load(spec), spec
    if path.suffix or os.sep in spec or "/" in spec:
        raise ValueError(f"DATA: file {spec!r} does not exist")
    raise ValueError(f"DATA: {spec!r} is neither an existing file nor a bundled dataset; "
                     f"datasets: {', '.join(names)}")


def check_new_file(path: str | Path, *, force: bool, option: str) -> Path:
    """Refuse an existing output file (or a directory in its place) unless ``force``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option}: {str(path)!r} is a directory; allowed: a file path")
    if path.exists() and not force:
        raise FileExistsError(f"{option}: {str(path)!r} already exists; pass --force to replace it")
    return path


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it replaces ``path`` (os.replace),
    on failure it is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_table(frame: Any, out: str, fmt: str) -> None:
    """Write a DataFrame as CSV/Parquet atomically, or CSV to stdout for ``out == "-"``."""
    if out == "-":
        frame.to_csv(sys.stdout, index=False)
        sys.stdout.flush()
        return
    try:
        with atomic_file(Path(out)) as tmp:
            if fmt == "parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
    except OSError as e:
        raise OSError(f"-o: cannot write {out!r}: {e.strerror or e}") from e


def human_bytes(n: int | float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover
