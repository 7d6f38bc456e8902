"""Translation QA: rule checks (placeholders, tags, numbers, ...), the meaning check,
consistency across catalogues, one report (text, CSV, JSONL, HTML) and marked copies of
the catalogues for the translator's own tools. Qt-free."""

from e5desk.core.qa.entries import Entry, read_po, read_tmx, read_xliff
from e5desk.core.qa.report import Finding, summary, write_html, write_report
from e5desk.core.qa.rules import CHECKS, Check, pick_checks
from e5desk.core.qa.run import QAResult, mark_copies, read_entries, run_checks

__all__ = ["CHECKS", "Check", "Entry", "Finding", "QAResult", "mark_copies", "pick_checks",
           "read_entries", "read_po", "read_tmx", "read_xliff", "run_checks", "summary",
           "write_html", "write_report"]
