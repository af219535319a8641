"""The static HTML report of the plan's progress (``planwh report``); see ``planwh.report.build``."""

from planwh.report.build import build_report, default_report_path, generate_docs

__all__ = ["build_report", "default_report_path", "generate_docs"]
