"""Exception types and the exit codes the command line returns for them.

Exit codes (documented in README.md):
  0  success
  1  internal error (a bug: please report it)
  2  bad input: recipe, override, option or path (nothing was written or damaged)
  3  partial failure: some shards failed; rerunning the same command resumes
  4  verification failed: `synthdata verify` found problems
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_PARTIAL = 3
EXIT_VERIFY_FAILED = 4


class SynthdataError(Exception):
    """Base class: an error the user can act on, shown as one line, never a traceback."""

    exit_code = EXIT_INTERNAL


class BadInput(SynthdataError):
    """The user's input (recipe, override, option, path) is wrong."""

    exit_code = EXIT_BAD_INPUT


class RecipeError(BadInput):
    """A recipe problem located at `source:line: dotted.path: message`."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 path: str | None = None, problems: list[str] | None = None):
        self.source, self.line, self.path, self.message = source, line, path, message
        self.problems = problems or [self.format_one(source, line, path, message)]
        super().__init__("\n".join(self.problems))

    @staticmethod
    def format_one(source: str | None, line: int | None, path: str | None, message: str) -> str:
        where = source or "recipe"
        if line is not None:
            where = f"{where}:{line}"
        return f"{where}: {path}: {message}" if path else f"{where}: {message}"


class DatasetError(BadInput):
    """An output folder is missing, foreign, or not a synthdata dataset."""


class PartialFailure(SynthdataError):
    """Some shards failed; the committed ones are intact and a rerun resumes."""

    exit_code = EXIT_PARTIAL


class VerifyFailed(SynthdataError):
    exit_code = EXIT_VERIFY_FAILED
