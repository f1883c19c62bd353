"""Command line: `synthdata run|validate|preview|inspect|verify|export|report ...`.

Each room owns its commands (recipe/cli.py, runner/cli.py, ...); this module builds the group and
turns every SynthdataError into one line on stderr plus the documented exit code.
"""
from __future__ import annotations

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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthdata")
def cli() -> None:
    """Generate labelled surveillance-style video datasets from YAML recipes."""


def main(argv: list[str] | None = None) -> None:
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
