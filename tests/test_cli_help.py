"""`synthdata --help` lists every command with its own first sentence, without importing the
commands (torch and numba take seconds to import)."""
from __future__ import annotations

import importlib
import subprocess
import sys

from synthdata.cli import COMMANDS, SHORT_HELP


def test_the_listed_short_help_is_each_commands_own():
    names = [n for names in COMMANDS.values() for n in names]
    assert sorted(SHORT_HELP) == sorted(names)
    for module, names in COMMANDS.items():
        for name in names:
            command = getattr(importlib.import_module(module), name.replace("-", "_") + "_command")
            assert SHORT_HELP[name] == command.get_short_help_str(limit=10 ** 6), name


def test_help_lists_the_commands_without_importing_them():
    code = ("import sys\nfrom synthdata.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'numba', 'pyarrow', 'dask', 'av') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    for name, text in SHORT_HELP.items():
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(name + " "))
        assert text.startswith(line.split(name, 1)[1].strip().removesuffix("...")), name


def test_the_command_skips_the_last_collection_but_calls_from_code_do_not():
    # as the `synthdata` script runs it (argv None): the process ends without a last cyclic
    # collection over what torch and numba made; main([...]) inside a process changes nothing
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
            "from synthdata.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print('after call', gc.get_freeze_count() > 0)\n"
            "sys.argv = ['synthdata', '--version']\nmain()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert "after call False" in lines and lines[-1] == "frozen True"
