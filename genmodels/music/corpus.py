"""Music corpora: the bundled Bach chorales and Essen folk songs (music21's corpus,
converted once to .mid and cached), and resolving a user's music input to pieces.

Cache: ``$GENMODELS_CACHE/music/<name>-v2/`` or ``~/.cache/genmodels/music/<name>-v2/``; one
``<piece>.mid`` per piece and ``index.json`` (the ordered piece list). Every file is
written atomically, so an interrupted conversion leaves no half file; the next call
converts what is missing. Loading a cached corpus does not import music21.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BUNDLED = {"bach": "Bach chorales (music21 corpus, 4 voices)",
           "essen": "Essen folk songs (music21 corpus, ABC, monophonic)"}
MIDI_SUFFIXES = (".mid", ".midi")
_INDEX_VERSION = 2
"""Bumped when the conversion changes: a new cache folder, old files are not reused."""


def cache_dir(name: str) -> Path:
    """Where the bundled corpus ``name`` is cached (created on demand)."""
    root = os.environ.get("GENMODELS_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "genmodels"
    return base / "music" / f"{name}-v{_INDEX_VERSION}"


def bundled_music(name: str, limit: int | None = None) -> list[Path]:
    """Paths of the first ``limit`` pieces (all when None) of a bundled corpus:
    ``"bach"`` (350 distinct chorales of music21's 371-number iterator) or ``"essen"``
    (8,514 tunes); pieces are converted to .mid on first use and cached."""
    if name not in BUNDLED:
        raise ValueError(f"name: got {name!r}; allowed: {', '.join(sorted(BUNDLED))}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ValueError(f"limit: got {limit!r}; allowed: a positive integer or None")
    folder = cache_dir(name)
    index = _read_index(folder)
    if index is not None:
        paths = _cached_paths(folder, index, limit)
        if paths is not None:
            return paths
    return _convert_corpus(name, folder, index, limit)


def _read_index(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / "index.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _INDEX_VERSION:
        return None
    return data


def _wanted(index: dict, limit: int | None) -> list[str]:
    failed = set(index.get("failed", []))
    ids = [i for i in index["pieces"] if i not in failed]
    return ids if limit is None else ids[:limit]


def _cached_paths(folder: Path, index: dict, limit: int | None) -> list[Path] | None:
    wanted = _wanted(index, limit)
    paths = [folder / f"{i}.mid" for i in wanted]
    return paths if all(p.is_file() for p in paths) else None


def _convert_corpus(name: str, folder: Path, index: dict | None,
                    limit: int | None) -> list[Path]:
    """Convert the missing pieces among the first ``limit`` with music21."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = dict(_sources(name))
    if index is None or index.get("pieces") != list(sources):
        index = {"version": _INDEX_VERSION, "corpus": name, "pieces": list(sources),
                 "failed": []}
    failed = set(index["failed"])
    out: list[Path] = []
    converted = 0
    for piece in index["pieces"]:
        if limit is not None and len(out) >= limit:
            break
        if piece in failed:
            continue
        path = folder / f"{piece}.mid"
        if not path.is_file():
            try:
                _convert_piece(sources[piece], path)
                converted += 1
                if converted % 500 == 0:
                    log.info("%s: %d pieces converted so far", name, converted)
            except Exception as e:  # noqa: BLE001  (music21 raises many kinds)
                log.warning("%s: cannot convert %s (%s); skipped", name, piece, e)
                failed.add(piece)
                continue
        out.append(path)
    index["failed"] = sorted(failed)
    _atomic_write(folder / "index.json", json.dumps(index, indent=1).encode())
    log.info("%s: %d pieces converted to MIDI in %s", name, converted, folder)
    return out


def _sources(name: str) -> Iterator[tuple[str, tuple[str, int | None]]]:
    """``(piece id, (music21 corpus path, opus number or None))`` in a fixed order."""
    from music21 import corpus

    if name == "bach":
        seen: set[str] = set()
        for fname in corpus.chorales.Iterator(returnType="filename"):
            piece = str(fname).split("/")[-1]
            if piece not in seen:  # the 371-number iterator repeats 21 files
                seen.add(piece)
                yield piece, (str(fname), None)
        return
    for path in sorted(corpus.getComposer("essenFolksong"), key=str):
        text = Path(path).read_text(encoding="latin-1")
        seen_n: set[int] = set()
        for match in re.finditer(r"^X:\s*(\d+)", text, flags=re.MULTILINE):
            number = int(match.group(1))
            if number not in seen_n:
                seen_n.add(number)
                yield f"{Path(path).stem}_{number}", (str(path), number)


def _convert_piece(source: tuple[str, int | None], path: Path) -> None:
    """Parse with music21 and write ``path`` (MIDI) atomically."""
    from music21 import corpus

    where, number = source
    stream = corpus.parse(where, number=number) if number is not None else corpus.parse(where)
    score = stream_to_score(stream)
    if score.note_num() == 0:
        raise ValueError("no notes")
    _atomic_write(path, bytes(score.dumps_midi()))


def stream_to_score(stream: Any, *, velocity: int = 90, tempo: float = 120.0) -> Any:
    """A music21 Score/Part -> ``symusic.Score``: one track per part, repeats expanded
    (left as written when music21 cannot expand them), ties merged, grace notes dropped,
    a pickup bar shifted so that bar lines fall on the time-signature grid."""
    import symusic

    pad = _pickup_quarters(stream)
    try:
        stream = stream.expandRepeats()
    except Exception:  # noqa: BLE001  (badly formed repeats: keep them as written)
        log.debug("repeats left unexpanded")
    tpq = 480
    score = symusic.Score(tpq)
    score.tempos.append(symusic.Tempo(0, float(tempo)))
    parts = list(stream.parts) or [stream]
    sigs: dict[int, tuple[int, int]] = {}
    for k, part in enumerate(parts):
        flat = part.stripTies().flatten()
        inst = part.getInstrument(returnDefault=False)
        program = getattr(inst, "midiProgram", None) or 0
        track = symusic.Track(name=part.partName or f"Part {k + 1}", program=int(program))
        for el in flat.notes:
            dur = round(float(el.quarterLength) * tpq)
            if dur <= 0:
                continue  # grace notes
            onset = round((float(el.offset) + pad) * tpq)
            for p in el.pitches:
                track.notes.append(symusic.Note(onset, dur, int(p.midi), velocity))
        if k == 0:
            for ts in flat.getElementsByClass("TimeSignature"):
                at = float(ts.offset)
                sigs[0 if at == 0 else round((at + pad) * tpq)] = (ts.numerator, ts.denominator)
        score.tracks.append(track)
    for at, (num, den) in sorted(sigs.items()):
        score.time_signatures.append(symusic.TimeSignature(at, int(num), int(den)))
    return score


def _pickup_quarters(stream: Any) -> float:
    """Length of the missing start of a pickup bar (quarter notes), else 0."""
    try:
        part = stream.parts[0] if stream.parts else stream
        first = part.getElementsByClass("Measure")[0]
        return float(first.paddingLeft or 0.0)
    except (IndexError, AttributeError):
        return 0.0


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------- user input
def is_music_input(data: Any) -> bool:
    """True for what :func:`music_sources` accepts and a table reader would not: a
    bundled music name (``"bach"``, ``"essen"``, ``"essen:500"``), a .mid file, a folder
    holding .mid files, a symusic Score, or a list of those."""
    from genmodels.music.notes import _is_score

    if _is_score(data):
        return True
    if isinstance(data, list | tuple):
        return bool(data) and all(is_music_input(d) for d in data)
    if not isinstance(data, str | Path):
        return False
    if isinstance(data, str) and ("\n" in data or len(data) > 4096):
        return False  # text itself, not a name
    if isinstance(data, str) and _bundled_spec(data) is not None:
        return True
    try:
        p = Path(data)
        if p.is_file():
            return p.suffix.lower() in MIDI_SUFFIXES
        return p.is_dir() and any(_midi_files(p))
    except OSError:  # a name too long for the file system, no access...
        return False


def _bundled_spec(text: str) -> tuple[str, int | None] | None:
    m = re.fullmatch(r"(bach|essen)(?::(\d+))?", text)
    if m is None:
        return None
    return m.group(1), (int(m.group(2)) if m.group(2) else None)


def _midi_files(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)


def music_sources(data: Any) -> list[Any]:
    """The pieces of a music input, in a fixed order: paths (or Scores as given).
    ``data``: a bundled name (``"bach"``, ``"essen"``, ``"essen:500"`` = first 500), a
    .mid file, a folder (searched recursively, sorted), a Score, or a list of those."""
    from genmodels.music.notes import _is_score

    if _is_score(data):
        return [data]
    if isinstance(data, list | tuple):
        if not data:
            raise ValueError("music input: the list of pieces is empty")
        return [s for d in data for s in music_sources(d)]
    if not isinstance(data, str | Path):
        raise ValueError(f"music input: expected a .mid file, a folder of them, a bundled "
                         f"name ('bach', 'essen') or a list, got {type(data).__name__}")
    if isinstance(data, str) and not Path(data).exists():
        spec = _bundled_spec(data)
        if spec is not None:
            return list(bundled_music(*spec))
    p = Path(data)
    if p.is_dir():
        files = sorted(_midi_files(p))
        if not files:
            raise ValueError(f"music input: folder {str(p)!r} holds no .mid/.midi files")
        return files
    if p.is_file():
        return [p]
    raise ValueError(f"music input: {str(data)!r} is neither a file, a folder nor a bundled "
                     f"name; allowed names: {', '.join(sorted(BUNDLED))}")
