"""Saved models: hashed, atomic, refused when changed or foreign; nothing overwritten."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genmodels as gm
from genmodels.provenance import ManifestError


@pytest.fixture(scope="module")
def gen():
    rng = np.random.default_rng(0)
    return gm.Generator("gaussian").fit(rng.normal(size=(100, 3)), seed=0)


def test_saved_directory_layout(gen, tmp_path):
    path = gen.save(tmp_path / "m")
    names = {p.name for p in path.iterdir()}
    assert names == {"config.json", "weights.safetensors", "codec.json", "metrics.json",
                     "card.md", "manifest.json"}
    config = json.loads((path / "config.json").read_text())
    assert config["model"] == "gaussian" and config["format_version"] == 1
    assert config["fit"]["data_fingerprint"].startswith("sha256:")
    manifest = json.loads((path / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert "# Model card: gaussian" in (path / "card.md").read_text()


def test_changed_weights_are_refused(gen, tmp_path):
    path = gen.save(tmp_path / "m")
    data = bytearray((path / "weights.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (path / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ManifestError, match="weights.safetensors.*changed"):
        gm.load(path)


def test_foreign_file_and_missing_file_are_refused(gen, tmp_path):
    path = gen.save(tmp_path / "m")
    (path / "evil.py").write_text("print('hi')")
    with pytest.raises(ManifestError, match="evil.py"):
        gm.load(path)
    (path / "evil.py").unlink()
    (path / "codec.json").unlink()
    with pytest.raises(ManifestError, match="codec.json.*missing"):
        gm.load(path)


def test_newer_format_is_refused_with_the_reason(gen, tmp_path):
    from genmodels.provenance import write_manifest

    path = gen.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["format_version"] = 99
    (path / "config.json").write_text(json.dumps(config))
    write_manifest(path)
    with pytest.raises(ManifestError, match="version 99"):
        gm.load(path)


def test_not_a_model_and_missing_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        gm.load(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a saved genmodels model"):
        gm.load(tmp_path / "plain")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        gm.load(tmp_path / "file.txt")


def test_existing_output_is_kept_without_force(gen, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="force"):
        gen.save(target)
    assert (target / "precious.txt").read_text() == "keep me"
    gen.save(target, force=True)
    assert not (target / "precious.txt").exists()
    gm.load(target)


def test_a_failed_save_leaves_the_old_model_intact(gen, tmp_path, monkeypatch):
    path = gen.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    import genmodels.saving as saving

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(saving, "write_manifest", boom)
    with pytest.raises(OSError, match="disk full"):
        gen.save(path, force=True)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_round_trip_keeps_samples_and_log_prob(gen, tmp_path):
    back = gm.load(gen.save(tmp_path / "m"))
    x = np.random.default_rng(1).normal(size=(10, 3))
    np.testing.assert_array_equal(gen.sample(20, seed=3), back.sample(20, seed=3))
    np.testing.assert_array_equal(gen.log_prob(x), back.log_prob(x))
