"""What a reader returns: the set plus what it had to skip, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.data.sentence_set import SentenceSet

MAX_REASONS = 20


@dataclass
class LoadResult:
    sentence_set: SentenceSet
    path: Path
    format: str
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)  # the first MAX_REASONS, with lines
    columns: str | None = None  # tables: which column was read as what (`inspect` shows it)
    stored: object | None = None  # a batch output's ImportedVectors (vectors + provenance)

    def skip(self, line: int | str, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(f"line {line}: {reason}")

    def problems(self) -> list[str]:
        out = list(self.notes)
        if self.skipped:
            out.append(f"{self.skipped} row(s) skipped")
            out += self.reasons
        return out
