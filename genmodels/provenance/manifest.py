"""``manifest.json``: the SHA-256 of every file in a saved directory, and its check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from genmodels.files import atomic_write_text, dumps

MANIFEST = "manifest.json"
FORMAT = "genmodels.manifest/1"


class ManifestError(ValueError):
    """A saved directory does not match its manifest (changed, missing or foreign file)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(directory: str | Path) -> dict:
    """Hash every regular file in ``directory`` (except the manifest) into manifest.json."""
    directory = Path(directory)
    files = {
        p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {"format": FORMAT, "files": files}
    atomic_write_text(directory / MANIFEST, dumps(manifest))
    return manifest


def verify_manifest(directory: str | Path) -> dict:
    """Check every file against manifest.json; raise :class:`ManifestError` naming the
    first file that is missing, changed or not listed."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise ManifestError(f"{str(directory)!r} is not a saved genmodels model: no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path}: unknown manifest format {manifest.get('format')!r}; "
                            f"expected {FORMAT!r}")
    listed = manifest.get("files", {})
    for name, entry in listed.items():
        file = directory / name
        if not file.is_file():
            raise ManifestError(f"{file}: listed in the manifest but missing")
        if sha256_file(file) != entry.get("sha256"):
            raise ManifestError(f"{file}: changed since it was saved (SHA-256 does not match "
                                "the manifest); refusing to load it")
    extra = sorted(p.name for p in directory.iterdir()
                   if p.is_file() and p.name != MANIFEST and p.name not in listed)
    if extra:
        raise ManifestError(f"{directory / extra[0]}: not listed in the manifest (a foreign "
                            "file); refusing to load")
    return manifest
