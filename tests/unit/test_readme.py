"""The README's model table is generated from the registry; they must agree."""

from pathlib import Path

from genmodels.models._catalog import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- models:start -->", "<!-- models:end -->"


def test_readme_model_table_matches_the_registry():
    text = README.read_text("utf-8")
    assert START in text and END in text, "README lacks the generated model table markers"
    table = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == markdown_table(), (
        "README model table is stale; regenerate it with:\n"
        "  .venv/bin/python -c 'from genmodels.models._catalog import markdown_table; "
        "print(markdown_table())'")


def test_readme_setup_is_the_two_commands():
    text = README.read_text("utf-8")
    assert "make demo" in text and "make test" in text
