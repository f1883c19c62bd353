"""The HTML quality report of a finished dataset (`synthdata report DIR`)."""
from __future__ import annotations

from synthdata.report.build import build_report
from synthdata.report.cli import write_report

__all__ = ["build_report", "write_report"]
