"""The ``genmodels`` command line: thin typer commands over the library."""

from genmodels.cli.main import app, main

__all__ = ["app", "main"]
