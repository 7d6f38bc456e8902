"""One report for every finding of the QA pass: rows with kind, check id, severity, the
entry's identity (msgctxt | msgid or unit id, file, line), both texts and the reason; as CLI
text, CSV, JSONL or a self-contained HTML page."""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from e5desk.core.qa.entries import Entry
from e5desk.core.qa.rules import CHECKS, SEVERITIES

KIND_ORDER = ("placeholder", "markup", "plural", "meaning", "number", "url", "consistency",
              "untranslated", "whitespace", "style", "punctuation")


@dataclass
class Finding:
    check: str  # an id of CHECKS
    entry: Entry
    reason: str
    flagged: bool = True  # False: a meaning pair listed by --all that looks fine
    doubt: float | None = None  # meaning checks: the larger, the more doubtful
    score: float | None = None  # meaning checks: cosine x 100 of the pair
    src_line: int | None = None
    # meaning checks: content words the word alignment left unpaired (core/qa/words.py)
    missing: list[str] = field(default_factory=list)  # source words not in the translation
    added: list[str] = field(default_factory=list)  # translation words not in the source

    @property
    def kind(self) -> str:
        return CHECKS[self.check].kind

    @property
    def severity(self) -> str:
        return CHECKS[self.check].severity if self.flagged else "ok"

    def sort_key(self) -> tuple:
        sev = SEVERITIES.index(self.severity) if self.flagged else len(SEVERITIES)
        kind = KIND_ORDER.index(self.kind) if self.kind in KIND_ORDER else len(KIND_ORDER)
        return (sev, kind, -(self.doubt or 0.0), self.entry.file, self.entry.line)

    def row(self) -> dict:
        e = self.entry
        return {
            "kind": self.kind, "check": self.check, "severity": self.severity,
            "group": e.identity, "context": e.context or "", "unit": e.unit_id or "",
            "file": e.file, "line": e.line,
            "src_lang": e.src_lang or "", "src_line": self.src_line or e.line,
            "src_text": e.source, "tgt_lang": e.tgt_lang or "", "tgt_line": e.line,
            "tgt_text": e.target, "fuzzy": e.fuzzy,
            "doubt": "" if self.doubt is None else round(self.doubt, 2),
            "score": "" if self.score is None else round(self.score, 2),
            "reason": self.reason,
            "missing_in_translation": " ".join(self.missing),
            "added_in_translation": " ".join(self.added),
        }


COLUMNS = ["kind", "check", "severity", "doubt", "group", "context", "unit", "file", "line",
           "src_lang", "src_line", "src_text", "tgt_lang", "tgt_line", "tgt_text", "score",
           "fuzzy", "reason", "missing_in_translation", "added_in_translation"]


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def write_csv(findings: Sequence[Finding], path: Path) -> None:
    with atomic_open(path, newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for x in findings:
            row = x.row()
            if isinstance(row["doubt"], float):
                row["doubt"] = f"{row['doubt']:.2f}"
            if isinstance(row["score"], float):
                row["score"] = f"{row['score']:.2f}"
            w.writerow(row)


def write_jsonl(findings: Sequence[Finding], path: Path) -> None:
    with atomic_open(path) as f:
        for x in findings:
            f.write(json.dumps(x.row(), ensure_ascii=False) + "\n")


def write_report(findings: Sequence[Finding], path: Path) -> None:
    """CSV, or JSON lines for ``.jsonl``/``.json``, or the HTML page for ``.html``."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        write_jsonl(findings, path)
    elif suffix in (".html", ".htm"):
        write_html(findings, path)
    else:
        write_csv(findings, path)


def text_lines(findings: Sequence[Finding], width: int = 60) -> list[str]:
    """The CLI's plain listing: one finding per line block."""
    def short(t: str) -> str:
        t = " ".join(str(t).split())
        return t if len(t) <= width else t[: width - 1] + "…"

    out = []
    for x in findings:
        e = x.entry
        out.append(f"{e.file}:{e.line}: {x.severity} [{x.check}] {short(e.identity)}")
        out.append(f"    {e.tgt_lang or '?'}: {short(e.target) or '(untranslated)'}")
        out.append(f"    {x.reason}")
        if x.missing:
            out.append(f"    missing in translation: {', '.join(x.missing)}")
        if x.added:
            out.append(f"    added in translation: {', '.join(x.added)}")
    return out


def summary(findings: Sequence[Finding]) -> str:
    from collections import Counter

    flagged = [x for x in findings if x.flagged]
    by_kind = Counter(x.kind for x in flagged)
    by_sev = Counter(x.severity for x in flagged)
    if not flagged:
        return "no findings"
    return (f"{len(flagged)} finding(s): "
            + ", ".join(f"{by_sev[s]} {s}" for s in SEVERITIES if by_sev[s]) + " ("
            + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items(),
                                                       key=lambda kv: -kv[1])) + ")")


class atomic_open:
    """Write to a temporary file beside ``path`` and move it into place on success, so a
    failed run never leaves half a report (or half a catalogue)."""

    def __init__(self, path: Path, mode: str = "w", newline: str | None = None,
                 encoding: str | None = "utf-8") -> None:
        self.path, self.mode, self.newline = Path(path), mode, newline
        self.encoding = None if "b" in mode else encoding

    def __enter__(self):
        import tempfile

        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part",
                                        dir=self.path.parent)
        import os

        self.f = os.fdopen(fd, self.mode, encoding=self.encoding, newline=self.newline)
        return self.f

    def __exit__(self, exc_type, exc, tb) -> None:
        import os

        self.f.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px 6px;
vertical-align:top;text-align:left}th{background:#f4f4f4}
.src,.tgt{width:32%;white-space:pre-wrap}.where{font-size:.85em;color:#555}
.error{background:#c62828;color:#fff}.warning{background:#f9a825}.info{background:#90caf9}
.sev{padding:1px 5px;border-radius:3px;font-size:.85em}
mark.un{background:#ffcdd2}.reason{font-size:.9em}
"""


def _highlight(text: str, words: set[str] | None) -> str:
    """``text`` escaped, each of ``words`` wrapped in <mark> (CJK words are characters, so
    words are matched as substrings, longest first)."""
    import re

    words = {w for w in (words or ()) if w.strip()}
    if not words:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [html.escape(text[last:m.start()]),
                f'<mark class="un">{html.escape(m.group(0))}</mark>']
        last = m.end()
    return "".join(out) + html.escape(text[last:])


def write_html(findings: Sequence[Finding], path: Path, title: str = "Translation QA",
               unaligned: Callable[[Finding], tuple[set[str], set[str]]] | None = None) -> None:
    """A self-contained page (inline CSS, no scripts, every text escaped): findings grouped
    by kind, source and translation side by side. ``unaligned(finding) -> (source words,
    translation words)`` marks words the word alignment could not pair (meaning findings)."""
    flagged = [x for x in findings if x.flagged]
    groups: dict[str, list[Finding]] = {}
    for x in sort_findings(flagged):
        groups.setdefault(x.kind, []).append(x)
    kinds = sorted(groups, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 99)
    out = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(summary(findings))}</p>"]
    if kinds:
        out.append("<ul>" + "".join(f'<li><a href="#{k}">{html.escape(k)}</a>: '
                                    f"{len(groups[k])}</li>" for k in kinds) + "</ul>")
    for k in kinds:
        out.append(f'<h2 id="{k}">{html.escape(k)} ({len(groups[k])})</h2>')
        out.append("<table><tr><th>severity</th><th>entry</th><th>source</th>"
                   "<th>translation</th><th>reason</th></tr>")
        for x in groups[k]:
            e = x.entry
            src_words = set(x.missing) or None
            tgt_words = set(x.added) or None
            if unaligned is not None:
                try:
                    src_words, tgt_words = unaligned(x)
                except Exception:  # noqa: BLE001 - highlights are optional
                    src_words = tgt_words = None
            out.append(
                f'<tr><td><span class="sev {x.severity}">{x.severity}</span><br>'
                f"{html.escape(x.check)}</td>"
                f'<td>{html.escape(e.identity)}<div class="where">'
                f"{html.escape(e.file)}:{e.line}"
                f"{' (fuzzy)' if e.fuzzy else ''}</div></td>"
                f'<td class="src" lang="{html.escape(e.src_lang or "")}">'
                f"{_highlight(e.source, src_words)}</td>"
                f'<td class="tgt" lang="{html.escape(e.tgt_lang or "")}">'
                f"{_highlight(e.target, tgt_words)}</td>"
                f'<td class="reason">{html.escape(x.reason)}</td></tr>')
        out.append("</table>")
    out.append("</body></html>")
    with atomic_open(path) as f:
        f.write("\n".join(out) + "\n")
