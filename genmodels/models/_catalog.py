"""The table of models and capabilities, generated from the registry (README and CLI)."""

from __future__ import annotations

from genmodels.models.base import registry

HEADER = ("model", "inputs", "exact likelihood", "conditional", "what it is")


def rows() -> list[tuple[str, ...]]:
    out = []
    for name, cls in registry().items():
        caps = cls.capabilities
        exact = "yes" if caps.exact_likelihood else f"no ({caps.likelihood_note or 'bound'})"
        out.append((f"`{name}`", caps.inputs, exact, "yes" if caps.conditional else "no",
                    cls.description))
    return out


def markdown_table() -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    return "\n".join(lines)
