"""``genmodels runs``: the run registry as a table."""

from __future__ import annotations

from typing import Any

import typer

from genmodels.cli._common import console, guard, print_json


def runs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-l", min=1, help="Show at most this many runs."),
    model: str | None = typer.Option(None, "--model", "-m", show_default=False,
                                     help="Only runs of this model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List recorded runs, newest first ($GENMODELS_HOME/registry.sqlite)."""
    with guard(ctx):
        from genmodels import runs as registry

        rows = registry.list_runs(limit=limit, model=model)
        if as_json:
            print_json(rows)
            return
        out = console()
        if not rows:
            out.print(f"no runs recorded in {registry.registry_path()}")
            return
        from rich.table import Table

        failed = any(r["status"] != "ok" for r in rows)
        table = Table(title=f"Runs ({registry.registry_path()})",
                      caption="errors of failed runs: genmodels runs --json" if failed else None)
        wide = out.width >= 120  # narrow terminals: the id already carries the time
        cols = [c for c in _COLUMNS if wide or c not in ("created (UTC)", "kind", "out_dir")]
        for col in cols:
            table.add_column(col, no_wrap=True, overflow="ellipsis",
                             justify="right" if col in ("seed", "seconds") else "left")
        for r in rows:
            cells = {"id": r["id"], "created (UTC)": r["created"][:16].replace("T", " "),
                     "kind": r["kind"], "model": r["model"] or "",
                     "data": _short_data(r["data"]), "seed": _s(r["seed"]),
                     "seconds": _num(r["duration_s"]),
                     "status": r["status"],
                     "out_dir": r["out_dir"] or ""}
            table.add_row(*(cells[c] for c in cols))
        out.print(table)


_COLUMNS = ("id", "created (UTC)", "kind", "model", "data", "seed", "seconds", "status", "out_dir")


def _short_data(data: str | None) -> str:
    if not data:
        return ""
    return data.rsplit("/", 1)[-1]


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def _num(v: float | None, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}"
