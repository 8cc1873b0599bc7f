"""read_table and validate_frame: what they read, and every refusal with its message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from genmodels.codecs.tabular_io import read_table, sniff_separator, validate_frame

ROWS = [["1", "a", "2.5"], ["2", "b", "3.5"], ["3", "c, d", "4.5"]]


def _write_csv(path: Path, sep: str, *, bom: bool = False) -> Path:
    lines = [sep.join(["id", "name", "value"])]
    for r in ROWS:
        lines.append(sep.join(f'"{v}"' if sep in v else v for v in r))
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode())
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_separator_is_sniffed(tmp_path: Path, sep: str) -> None:
    df = read_table(_write_csv(tmp_path / "t.csv", sep))
    assert list(df.columns) == ["id", "name", "value"]
    assert df["id"].tolist() == [1, 2, 3]
    assert df["value"].tolist() == [2.5, 3.5, 4.5]
    assert df["name"].tolist()[2] == "c, d"


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    df = read_table(_write_csv(tmp_path / "bom.csv", ";", bom=True))
    assert df.columns[0] == "id"


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    p = tmp_path / "u16.csv"
    p.write_bytes("a,b\n1,\u00e9\n2,x\n".encode("utf-16"))
    assert read_table(p)["b"].tolist() == ["\u00e9", "x"]


def test_one_column_csv(tmp_path: Path) -> None:
    p = tmp_path / "one.csv"
    p.write_text("x\n1\n2\n")
    assert read_table(p)["x"].tolist() == [1, 2]
    assert sniff_separator("x\n1\n2\n") == ","


def test_sniff_prefers_consistent_field_counts() -> None:
    text = "a;b;c\n1,5;2;x\n3,5;4;y\n"  # decimal commas inside ';'-separated fields
    assert sniff_separator(text) == ";"


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame(
        {
            "a": [1, 2, 3],
            "b": ["x", None, "z"],
            "t": pd.date_range("2020-01-01", periods=3, tz="UTC"),
        }
    )
    p = tmp_path / f"t{suffix}"
    df.to_parquet(p)
    got = read_table(p)
    pd.testing.assert_frame_equal(got, df, check_dtype=False)
    assert str(got["t"].dt.tz) == "UTC"


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"path: '.*nope\.csv' does not exist"):
        read_table(tmp_path / "nope.csv")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a directory"):
        read_table(tmp_path)


def test_unknown_extension(tmp_path: Path) -> None:
    p = tmp_path / "t.xlsx"
    p.write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"unknown extension '\.xlsx'; allowed: \.csv"):
        read_table(p)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_table(p)
    p.write_text("\n  \n")
    with pytest.raises(ValueError, match="is empty"):
        read_table(p)


def test_header_only(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("a,b,c\n")
    with pytest.raises(ValueError, match="has a header but no rows"):
        read_table(p)


def test_duplicate_csv_header_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("a,b,a\n1,2,3\n")
    with pytest.raises(ValueError, match="duplicate column names 'a'"):
        read_table(p)


def test_duplicate_parquet_columns_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "d.parquet"
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"])
    pq.write_table(table, p)
    with pytest.raises(ValueError, match="duplicate column names 'a'"):
        read_table(p)


def test_undecodable_file(tmp_path: Path) -> None:
    p = tmp_path / "latin.csv"
    p.write_bytes("name,city\nJos\u00e9,S\u00e3o Paulo\n".encode("latin-1"))
    with pytest.raises(ValueError, match="cannot be decoded as utf-8.*re-save the file as UTF-8"):
        read_table(p)


def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(ValueError, match="not a text file"):
        read_table(p)


def test_corrupt_parquet(tmp_path: Path) -> None:
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="not a readable Parquet file"):
        read_table(p)


def test_path_type_checked() -> None:
    with pytest.raises(ValueError, match="path: got int"):
        read_table(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------- validate_frame
def test_validate_frame_refusals() -> None:
    with pytest.raises(TypeError, match="data: got list; allowed: a pandas DataFrame"):
        validate_frame([[1, 2]])
    with pytest.raises(ValueError, match="has 0 rows"):
        validate_frame(pd.DataFrame({"a": []}))
    with pytest.raises(ValueError, match="need at least 2 rows"):
        validate_frame(pd.DataFrame({"a": [1]}), min_rows=2)
    with pytest.raises(ValueError, match="has no columns"):
        validate_frame(pd.DataFrame(index=range(3)))
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match="duplicate column names 'a'"):
        validate_frame(dup)
    clash = pd.DataFrame([[1, 2]], columns=[1, "1"])
    with pytest.raises(ValueError, match="duplicate column names '1'"):
        validate_frame(clash)


def test_validate_frame_infinite_values_named_and_counted() -> None:
    df = pd.DataFrame({"ok": [1.0, np.nan, 2.0], "bad": [1.0, np.inf, -np.inf]})
    with pytest.raises(
        ValueError,
        match=r"column 'bad' has 2 infinite value\(s\); allowed: finite numbers or missing",
    ):
        validate_frame(df)


def test_validate_frame_converts_names_and_keeps_caller_frame() -> None:
    df = pd.DataFrame({0: [1, 2], "b": [3, 4]}, index=[10, 20])
    out = validate_frame(df)
    assert list(out.columns) == ["0", "b"] and list(out.index) == [0, 1]
    assert list(df.columns) == [0, "b"] and list(df.index) == [10, 20]
