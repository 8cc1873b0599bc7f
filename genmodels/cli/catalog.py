"""``genmodels datasets`` and ``genmodels models``: what is there to use."""

from __future__ import annotations

from typing import Any

import typer

from genmodels.cli._common import console, guard, print_json

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def datasets(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the bundled datasets (usable as DATA) with their size and description."""
    with guard(ctx):
        from genmodels import datasets as ds

        rows = [_dataset_row(name, ds.info(name)) for name in ds.names()]
        if as_json:
            print_json(rows)
            return
        from rich.table import Table

        table = Table(title="Bundled datasets")
        for col in ("name", "rows", "columns", "target", "description"):
            table.add_column(col, justify="right" if col in ("rows", "columns") else "left",
                             no_wrap=col == "name")
        for r in rows:
            table.add_row(r["name"], _fmt_int(r["rows"]), _fmt_int(r["columns"]),
                          str(r.get("target") or ""), str(r.get("description") or ""))
        console().print(table)


def _dataset_row(name: str, info: dict[str, Any]) -> dict[str, Any]:
    columns = info.get("columns", info.get("n_columns"))
    if isinstance(columns, list | tuple):
        columns = len(columns)
    return {"name": name, **info, "rows": info.get("rows", info.get("n_rows")),
            "columns": columns}


def _fmt_int(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else ("" if v is None else str(v))


def models(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="A model name: show its hyperparameters.",
                               show_default=False),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the registered models and their capabilities; with NAME, its hyperparameters.

    Set a hyperparameter with `genmodels fit ... --set NAME=VALUE`.
    """
    with guard(ctx):
        from genmodels.models import get_model_class, registry

        if name is not None:
            _show_model(get_model_class(name), as_json)
            return
        rows = [_model_row(cls) for cls in registry().values()]
        if as_json:
            print_json(rows)
            return
        from rich.table import Table

        table = Table(title="Models", caption="exact LL: log_prob is the exact likelihood; "
                      "cond.: conditional sampling (--condition)")
        for col in ("name", "inputs", "exact LL", "cond.", "deep", "description"):
            table.add_column(col, no_wrap=col in ("name", "inputs"))
        for r in rows:
            table.add_row(r["name"], r["inputs"], _yes(r["exact_likelihood"]),
                          _yes(r["conditional"]), _yes(r["deep"]), r["description"])
        console().print(table)
        if not rows:
            console().print("no models are registered")


def _model_row(cls: Any) -> dict[str, Any]:
    caps = cls.capabilities
    return {"name": cls.name, "inputs": caps.inputs, "exact_likelihood": caps.exact_likelihood,
            "conditional": caps.conditional, "deep": caps.deep,
            "likelihood_note": caps.likelihood_note, "modalities": list(caps.modalities),
            "description": cls.description}


def _param_rows(cls: Any) -> list[dict[str, Any]]:
    return [{"name": key, "default": p.default, "type": _type_name(p.type),
             "allowed": p.allowed, "help": p.help} for key, p in cls.params.items()]


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " | ".join(x.__name__ for x in t)
    return t.__name__


def _show_model(cls: Any, as_json: bool) -> None:
    row, params = _model_row(cls), _param_rows(cls)
    if as_json:
        print_json({**row, "params": params})
        return
    from rich.table import Table

    out = console()
    out.print(f"{cls.name}: {cls.description}", style="bold")
    note = f" ({row['likelihood_note']})" if row["likelihood_note"] else ""
    out.print(f"inputs: {row['inputs']}; exact likelihood: {_yes(row['exact_likelihood'])}"
              f"{note}; conditional sampling: {_yes(row['conditional'])}")
    if not params:
        out.print("no hyperparameters")
        return
    table = Table(title=f"Hyperparameters of {cls.name} (--set NAME=VALUE)")
    for col in ("name", "default", "allowed", "help"):
        table.add_column(col, no_wrap=col == "name")
    for p in params:
        table.add_row(p["name"], repr(p["default"]), p["allowed"] or p["type"], p["help"])
    out.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
