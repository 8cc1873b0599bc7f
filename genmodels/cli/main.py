"""The ``genmodels`` command: a typer app whose commands live in small modules.

``main()`` is the console-script entry point (also ``python -m genmodels``): it runs
the app and turns anything that escapes into an exit code and one line on stderr.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence

import typer

from genmodels.cli import catalog, generate, registry, train
from genmodels.cli import compare as compare_cli
from genmodels.cli import evaluate as evaluate_cli
from genmodels.cli import studies as studies_cli
from genmodels.cli._common import EXIT_FAILURE, EXIT_OK, describe, one_line

app = typer.Typer(
    name="genmodels",
    help="Train, sample and inspect generative models of tables, text and music.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time, so a handler added by one
    ``--debug`` call never writes into a stream that has since been closed."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _version(value: bool) -> None:
    if value:
        import genmodels

        print(f"genmodels {genmodels.__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Train, sample and inspect generative models of tables, text and music.

    DATA is a CSV/Parquet file or a bundled dataset name (see `genmodels datasets`);
    for a sequence model (ngram, transformer, lstm) a .txt file, a folder of .txt
    files, or MIDI files.
    Runs are recorded in $GENMODELS_HOME/registry.sqlite (default ./genmodels-runs/).
    """
    ctx.obj = {"debug": debug}
    # Per invocation: --debug turns debug logs on, and a later call without it (same
    # process, e.g. in tests) turns them off again.
    log = logging.getLogger("genmodels")
    for h in [h for h in log.handlers if isinstance(h, _CurrentStderrHandler)]:
        log.removeHandler(h)
    log.setLevel(logging.NOTSET)
    if debug:
        log.setLevel(logging.DEBUG)
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


app.command("datasets")(catalog.datasets)
app.command("models")(catalog.models)
app.command("metadata")(train.metadata)
app.command("fit")(train.fit)
app.command("sample")(generate.sample)
app.command("info")(generate.info)
app.command("runs")(registry.runs)
app.command("evaluate")(evaluate_cli.evaluate)
app.command("compare")(compare_cli.compare)
app.command("report")(compare_cli.report)
app.command("gvd")(studies_cli.gvd)
app.command("mle-vs-bayes")(studies_cli.mle_vs_bayes)
app.command("augment")(studies_cli.augment)
app.command("augment-study")(studies_cli.augment_study)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="genmodels", standalone_mode=False)
    except typer.TyperException as e:  # usage errors (click's, vendored by typer)
        if type(e).__name__ != "NoArgsIsHelpError":  # its help text is already printed
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            print(f"error: {one_line(e.format_message())}{hint}", file=sys.stderr)
        return e.exit_code
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # anything the commands did not turn into an exit code
        if debug:
            traceback.print_exc()
        print(f"error: {one_line(describe(e))}", file=sys.stderr)
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
