"""Command line: `synthdata run|validate|preview|inspect|verify|export|report|precompile ...`.

Each room owns its commands (recipe/cli.py, runner/cli.py, ...); this module builds the group and
turns every SynthdataError into one line on stderr plus the documented exit code.
"""
from __future__ import annotations

import gc
import importlib
import sys

import click

from synthdata import __version__
from synthdata.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, SynthdataError

# module path -> names of click commands it defines
COMMANDS = {
    "synthdata.runner.cli": ("run",),
    "synthdata.recipe.cli": ("validate", "schema"),
    "synthdata.recipe.draft.cli": ("draft",),
    "synthdata.render.preview": ("preview",),
    "synthdata.io.cli": ("inspect", "verify"),
    "synthdata.export.cli": ("export",),
    "synthdata.plate.cli": ("plate",),
    "synthdata.report.cli": ("report",),
    "synthdata.refine.cli": ("refiner",),
    "synthdata.precompile": ("precompile",),
}

# each command's first docstring sentence, so that `synthdata --help` lists the commands without
# importing them (torch and numba alone take seconds); tests/test_cli_help.py holds them equal
SHORT_HELP = {
    "run": "Generate the dataset described by RECIPE into --out, resuming what is already there.",
    "validate": "Check RECIPE (with optional KEY=VALUE overrides such as output.clips=8) and summarise it.",
    "schema": "Print the recipe JSON Schema (draft 2020-12) for editors with a YAML language server.",
    "draft": "Draft a commented recipe from an English description TEXT.",
    "preview": "Render a few sampled clips of RECIPE with labels drawn, to look at before a long run.",
    "inspect": "Summarise a dataset: counts per category, frames, objects, box-height and visibility "
               "distributions, events per type.",
    "verify": "Check a dataset: hashes and sizes, table schemas and row counts, row order, that every clip "
              "decodes to its frame count, and that visible boxes match their masks.",
    "export": "Export the finished dataset DIR (folder or URL) to a foreign format.",
    "plate": "Your own camera: a background plate from footage, its calibration (see README.md).",
    "report": "Write a self-contained HTML quality report of the dataset in DIR (local folder or URL): counts, "
              "label distributions, events, parameter coverage, sample frames with labels, warnings.",
    "refiner": "A learned sim-to-real refiner: make renders look like your camera (labels unchanged).",
    "precompile": "Compile every CPU render kernel numba's cache lacks on this machine, one process a core.",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command is used (keeps `--help` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for names in COMMANDS.values() for name in names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        for module, names in COMMANDS.items():
            if name in names:
                return getattr(importlib.import_module(module), name.replace("-", "_") + "_command")
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, from SHORT_HELP (as click words and shortens it)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        with formatter.section("Commands"):
            formatter.write_dl([(n, click.Command(n, help=SHORT_HELP[n]).get_short_help_str(limit)) for n in names])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthdata")
def cli() -> None:
    """Generate labelled surveillance-style video datasets from YAML recipes."""


def main(argv: list[str] | None = None) -> None:
    """The `synthdata` command (argv None: the process's own arguments, and the process ends after
    it) or, with argv, one command inside a running process (tests)."""
    try:
        _main(argv)
    finally:
        if argv is None:
            # The process ends next. Its last cyclic collection would walk the few hundred thousand
            # objects that importing torch and numba made (0.6-1.1 s of a 5 s preview) to free
            # memory the OS takes back anyway; frozen objects are skipped. Files are closed where
            # they are written, never left to the collector.
            gc.freeze()


def _main(argv: list[str] | None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="synthdata", standalone_mode=False)
    except SynthdataError as e:
        for line in str(e).splitlines() or [type(e).__name__]:
            click.echo(f"error: {line}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_BAD_INPUT if e.exit_code == 2 else e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - last resort: one line, not a traceback
        click.echo(f"internal error: {type(e).__name__}: {e} (set SYNTHDATA_DEBUG=1 for a traceback)", err=True)
        import os
        if os.environ.get("SYNTHDATA_DEBUG"):
            raise
        sys.exit(EXIT_INTERNAL)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
