"""The CLI on text: fit a corpus, stream or write samples, info, evaluate, fine-tune,
and each bad input as one clear error (exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.integration.test_cli import assert_usage_error, invoke

SENTENCES = ["the cat sat on the mat.", "a dog ran to the park.", "we like to read.",
             "it rains in spring."]


def text(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "\n".join(" ".join(SENTENCES[i] for i in rng.integers(0, 4, 3)) for _ in range(n))


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> CliRunner:
    return CliRunner(env={"GENMODELS_HOME": str(tmp_path_factory.mktemp("home"))})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("text")
    out = {"train": root / "train.txt", "val": root / "val.txt"}
    out["train"].write_text(text(200, 0), "utf-8")
    out["val"].write_text(text(20, 1), "utf-8")
    return out


@pytest.fixture(scope="module")
def model_dir(runner, files, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "ngram"
    res = invoke(runner, "fit", files["train"], "--model", "ngram", "-o", out,
                 "--set", "order=4")
    assert res.exit_code == 0, res.output
    assert "documents" in res.stdout and "vocabulary" in res.stdout
    return out


def test_info_shows_the_vocabulary(runner, model_dir, files):
    n_chars = len(set(files["train"].read_text("utf-8"))) + 1
    res = invoke(runner, "info", model_dir)
    assert res.exit_code == 0 and f"vocabulary size {n_chars}" in res.stdout
    data = json.loads(invoke(runner, "info", model_dir, "--json").stdout)
    assert data["codec"]["vocab_size"] == n_chars and data["fit"]["input_type"] == "text"


def test_sample_streams_the_prompt_and_its_continuation(runner, model_dir):
    res = invoke(runner, "sample", model_dir, "--prompt", "the cat", "--max-tokens", 40,
                 "--seed", 3)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("the cat") and len(res.stdout) > len("the cat")
    assert res.stdout == invoke(runner, "sample", model_dir, "--prompt", "the cat",
                                "--max-tokens", 40, "--seed", 3).stdout


def test_sample_writes_files_and_refuses_to_overwrite(runner, model_dir, tmp_path):
    out = tmp_path / "samples"
    args = ["sample", model_dir, "-n", 3, "--prompt", "a dog", "--max-tokens", 30,
            "--top-k", 5, "--temperature", 0.8, "-o", out]
    assert invoke(runner, *args).exit_code == 0
    written = sorted(out.glob("*.txt"))
    assert [p.name for p in written] == ["sample_000.txt", "sample_001.txt", "sample_002.txt"]
    first = [p.read_text("utf-8") for p in written]
    assert all(t.startswith("a dog") for t in first)
    assert_usage_error(invoke(runner, *args), "already exists", "--force")
    assert invoke(runner, *args, "--force").exit_code == 0
    assert [p.read_text("utf-8") for p in written] == first  # same seed, same text
    streamed = invoke(runner, *args[:-2])
    assert streamed.stdout.split("--- sample 1 ---")[0].strip().endswith(first[0].strip())


def test_bad_sampling_requests(runner, model_dir):
    assert_usage_error(invoke(runner, "sample", model_dir, "--max-tokens", 0), "--max-tokens")
    res = invoke(runner, "sample", model_dir, "--prompt", "the @cat")
    assert_usage_error(res, "'@'", "known characters")
    assert res.stdout == ""  # nothing streamed before the error
    assert_usage_error(invoke(runner, "sample", model_dir, "-c", "a=1"), "--condition")


def test_bad_corpora_are_clear_errors(runner, tmp_path):
    (tmp_path / "empty.txt").write_text("", "utf-8")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)))
    (tmp_path / "folder").mkdir()
    for data, needle in ((tmp_path / "empty.txt", "empty"), (tmp_path / "bin.txt", "NUL"),
                         (tmp_path / "folder", "no .txt file"),
                         (tmp_path / "nope.txt", "does not exist")):
        out = tmp_path / "m"
        assert_usage_error(invoke(runner, "fit", data, "-m", "ngram", "-o", out), needle)
        assert not out.exists()


def test_a_table_model_refuses_a_corpus_and_text_options(runner, files, tmp_path):
    out = tmp_path / "m"
    assert_usage_error(invoke(runner, "fit", files["train"], "-m", "independent", "-o", out),
                       "text corpus")
    assert_usage_error(invoke(runner, "fit", "penguins", "-m", "independent", "-o", out,
                              "--tokenizer", "bpe"), "--tokenizer")
    assert_usage_error(invoke(runner, "fit", "penguins", "-m", "ngram", "-o", out),
                       "penguins")


def test_bpe_tokenizer(runner, files, tmp_path):
    out = tmp_path / "bpe"
    res = invoke(runner, "fit", files["train"], "-m", "ngram", "-o", out, "--tokenizer", "bpe",
                 "--vocab-size", 300)
    assert res.exit_code == 0, res.output
    data = json.loads(invoke(runner, "info", out, "--json").stdout)
    assert 257 < data["codec"]["vocab_size"] <= 300
    res = invoke(runner, "sample", out, "--prompt", "the", "--max-tokens", 20)
    assert res.exit_code == 0 and res.stdout.startswith("the")
    assert_usage_error(invoke(runner, "fit", files["train"], "-m", "ngram", "-o", out,
                              "--vocab-size", 300), "--vocab-size")


def test_fine_tuning_from_a_saved_model(runner, files, model_dir, tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("we like to read. " * 20, "utf-8")
    out = tmp_path / "tuned"
    res = invoke(runner, "fit", small, "-m", "ngram", "-o", out, "--init-from", model_dir,
                 "--set", "order=4")
    assert res.exit_code == 0, res.output
    info = json.loads(invoke(runner, "info", out, "--json").stdout)
    base = json.loads(invoke(runner, "info", model_dir, "--json").stdout)
    assert info["codec"]["vocab_size"] == base["codec"]["vocab_size"]
    small.write_text("new words ZEBRA", "utf-8")
    assert_usage_error(invoke(runner, "fit", small, "-m", "ngram", "-o", tmp_path / "t2",
                              "--init-from", model_dir, "--set", "order=4"), "'Z'")


def test_evaluate_text(runner, files, model_dir, tmp_path):
    samples = tmp_path / "gen"
    assert invoke(runner, "sample", model_dir, "-n", 4, "--max-tokens", 200, "-o",
                  samples).exit_code == 0
    res = invoke(runner, "evaluate", files["train"], samples, "--model", model_dir,
                 "--holdout", files["val"], "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    lk, dv = report["likelihood"], report["diversity"]
    assert 0 < lk["train"]["nats_per_char"] <= lk["holdout"]["nats_per_char"] < np.log(30)
    assert lk["holdout"]["perplexity"] == pytest.approx(np.exp(lk["holdout"]["nats_per_token"]))
    assert 0 < dv["distinct_1"] <= 1 and 0 <= dv["copy_rate_words_8"] <= 1
    assert dv["copy_rate_chars_8"] > 0.5  # an n-gram model of a tiny corpus copies a lot
    res = invoke(runner, "evaluate", files["train"], samples)
    assert res.exit_code == 0 and "distinct_2" in res.stdout and "--model" in res.stdout


# ------------------------------------------------------------------ music
@pytest.fixture(scope="module")
def music(tmp_path_factory) -> dict:
    """A runner whose corpus cache is private, a tiny n-gram fitted on `bach:3` through the
    CLI, 4 pieces sampled from it, and a held-out chorale in a folder."""
    pytest.importorskip("symusic")
    pytest.importorskip("music21")
    import shutil

    from genmodels.music.corpus import bundled_music

    root = tmp_path_factory.mktemp("music")
    env = {"GENMODELS_HOME": str(root / "home"), "GENMODELS_CACHE": str(root / "cache"),
           "TMPDIR": str(root)}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        paths = bundled_music("bach", limit=4)
    held = root / "held"
    held.mkdir()
    shutil.copy(paths[3], held)
    runner = CliRunner(env=env)
    model = root / "ngram"
    res = invoke(runner, "fit", "bach:3", "-m", "ngram", "-o", model, "--set", "order=4")
    assert res.exit_code == 0, res.output
    samples = root / "samples"
    res = invoke(runner, "sample", model, "-n", 4, "--max-tokens", 200, "-o", samples)
    assert res.exit_code == 0, res.output
    assert len(list(samples.glob("sample_*.mid"))) == 4
    return {"runner": runner, "model": model, "samples": samples, "held": held, "root": root}


def test_evaluate_music_json(music):
    runner = music["runner"]
    res = invoke(runner, "evaluate", "bach:3", music["samples"], "--model", music["model"],
                 "--holdout", music["held"], "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    lk, m = report["likelihood"], report["music"]
    assert report["n_training_pieces"] == 3 and report["n_holdout_pieces"] == 1
    assert report["reference"] == "holdout" and report["run_id"]
    vocab = json.loads(invoke(runner, "info", music["model"], "--json").stdout)["codec"][
        "vocab_size"]
    assert 0 < lk["train"]["nats_per_token"] < lk["holdout"]["nats_per_token"] < np.log(vocab)
    assert lk["holdout"]["nats_per_note"] > lk["holdout"]["nats_per_token"]  # ~3 events a note
    assert m["n_pieces"] == 4 and 0 <= m["pitch_class_tv"] <= 1 and 0 <= m["duration_tv"] <= 1
    assert 0 <= m["copy_rate_8"] <= 1 and m["polyphony"] >= 1
    # the same pieces against themselves: zero distances, every 8-note run a copy
    same = json.loads(invoke(runner, "evaluate", music["samples"], music["samples"],
                             "--json").stdout)
    assert same["likelihood"] is None and same["music"]["pitch_class_tv"] == 0.0
    assert same["music"]["copy_rate_8"] == 1.0


def test_evaluate_music_table_and_out_file(music, tmp_path):
    runner = music["runner"]
    out = tmp_path / "music.json"
    res = invoke(runner, "evaluate", "bach:3", music["samples"], "-o", out)
    assert res.exit_code == 0, res.output
    assert "pitch_class_tv" in res.stdout and "copy_rate_8" in res.stdout
    assert "--model DIR" in res.stdout and "report written to" in res.stdout
    saved = json.loads(out.read_text("utf-8"))
    assert saved["music"]["n_pieces"] == 4 and saved["likelihood"] is None
    assert_usage_error(invoke(runner, "evaluate", "bach:3", music["samples"], "-o", out),
                       "already exists", "--force")
    assert invoke(runner, "evaluate", "bach:3", music["samples"], "-o", out,
                  "--force").exit_code == 0
    assert json.loads(out.read_text("utf-8")) == saved  # the same inputs, the same report


def test_evaluate_music_bad_input(music, model_dir, tmp_path):
    runner = music["runner"]
    (tmp_path / "empty").mkdir()
    assert_usage_error(invoke(runner, "evaluate", "bach:3", tmp_path / "empty"),
                       "SYNTH", "no .mid")
    assert_usage_error(invoke(runner, "evaluate", "bach:3", music["samples"], "--holdout",
                              tmp_path / "nope"), "--holdout")
    assert_usage_error(invoke(runner, "evaluate", "bach:3", music["samples"], "--model",
                              model_dir), "--model", "not a music model")
    assert_usage_error(invoke(runner, "evaluate", "bach:3", music["samples"], "--target",
                              "y"), "--target", "music corpus")
