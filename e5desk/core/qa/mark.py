"""Marked copies for the translator's own tools: the catalogue as it was (order, comments,
wrapping, header, every byte not touched by a mark), with each flagged entry marked for
review and the reason beside it.

- PO: ``#, fuzzy`` and an extracted comment ``#. e5desk: reason`` (Poedit, Lokalize and
  Weblate show both);
- XLIFF 1.2: ``state="needs-review-translation"`` on the target and a ``<note
  from="e5desk">``; XLIFF 2.0: each segment ``state="translated"`` (was reviewed or
  final; initial stays) with ``subState="e5desk:needs-review"``, and a ``<note
  category="e5desk">`` in the unit's notes;
- TMX: a ``<prop type="x-e5desk-qa">`` on the unit.

The marks are inserted into the original text rather than re-serialised, so a diff of the
copy against the input shows only the marks. Never written over the input; written
atomically (a temporary file beside the output, then moved into place)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from e5desk.core.errors import E5DeskError
from e5desk.core.qa.entries import entry_start
from e5desk.core.qa.report import atomic_open

COMMENT_PREFIX = "e5desk: "
TMX_PROP = "x-e5desk-qa"
XLIFF_STATE = "needs-review-translation"
XLIFF2_SUBSTATE = "e5desk:needs-review"


def _one_line(reason: str) -> str:
    return " ".join(str(reason).split())


def check_output(inputs: list[Path], out: Path) -> None:
    """Refuse an output that is (or links to) one of the inputs."""
    for p in inputs:
        if Path(out).resolve() == Path(p).resolve() or (
                Path(out).exists() and os.path.samefile(out, p)):
            raise E5DeskError(f"{out}: is the input catalogue; the marked copy is never "
                              "written over the input: choose another path")


# --- PO -----------------------------------------------------------------------------------

def _po_charset(raw: bytes) -> str:
    m = re.search(rb"charset=([\w.-]+)", raw[:4000])
    name = m.group(1).decode("ascii") if m else "utf-8"
    return "utf-8" if name.upper() in ("CHARSET", "") else name


def mark_po(path: Path, marks: dict[int, list[str]], out: Path) -> int:
    """``marks``: {position of the entry in polib's list: [reasons]}. Returns the number of
    entries marked."""
    import polib

    raw = Path(path).read_bytes()
    charset = _po_charset(raw)
    try:
        text = raw.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise E5DeskError(f"{path}: cannot decode the catalogue as {charset} ({exc})") from None
    catalogue = polib.pofile(text)
    entries = list(catalogue)
    lines = text.splitlines(keepends=True)
    # (line index, order at that line, replace the line with or None, insert before it)
    edits: list[tuple[int, int, str | None, str]] = []
    for index, reasons in marks.items():
        e = entries[index]
        start = entry_start(lines, e.linenum)
        head = start  # first comment line of the entry
        while head > 0 and lines[head - 1].lstrip().startswith("#") and \
                not lines[head - 1].startswith("#~"):
            head -= 1
        newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
        block = range(head, start)
        comment_at = next((i for i in block if lines[i].startswith(("#:", "#,", "#|"))), start)
        comments = "".join(f"#. {COMMENT_PREFIX}{_one_line(r)}{newline}"
                           for r in dict.fromkeys(reasons))
        flags_line = next((i for i in block if lines[i].startswith("#,")), None)
        if flags_line is not None:
            flags = [f.strip() for f in lines[flags_line][2:].split(",") if f.strip()]
            if "fuzzy" not in flags:
                edits.append((flags_line, 2, "#, " + ", ".join(["fuzzy", *flags]) + newline,
                              ""))
        else:
            at = next((i for i in block if lines[i].startswith("#|")), start)
            edits.append((at, 1, None, f"#, fuzzy{newline}"))
        edits.append((comment_at, 0, None, comments))
    # bottom-up, so earlier indices stay valid; at one line the comment ends up first
    for i, _, replace, insert in sorted(edits, key=lambda x: (x[0], x[1]), reverse=True):
        if replace is not None:
            lines[i] = replace
        if insert:
            lines.insert(i, insert)
    result = "".join(lines)
    check = polib.pofile(result)
    if len(list(check)) != len(entries):  # pragma: no cover - a safety net
        raise E5DeskError(f"{path}: the marked copy did not keep every entry; nothing written")
    with atomic_open(out, "wb") as f:
        f.write(result.encode(charset))
    return len(marks)


# --- XML (XLIFF, TMX) -----------------------------------------------------------------------

def _utf8_bytes(path: Path) -> bytes:
    raw = Path(path).read_bytes()
    head = raw[:200]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or re.search(
            rb"encoding=[\"'](?!utf-?8)", head, re.IGNORECASE):
        raise E5DeskError(f"{path}: marked copies are written for UTF-8 files only; "
                          "convert the file to UTF-8 first")
    return raw


def _tag_end(raw: bytes, start: int) -> int:
    """Index of the ``>`` closing the start tag at ``start``."""
    quote = None
    for i in range(start, len(raw)):
        ch = raw[i:i + 1]
        if quote:
            if ch == quote:
                quote = None
        elif ch in (b'"', b"'"):
            quote = ch
        elif ch == b">":
            return i
    raise ValueError("unterminated tag")


def _indent_before(raw: bytes, pos: int) -> tuple[int, bytes] | None:
    """(start of line, its indentation) when only whitespace stands before ``pos``."""
    line_start = raw.rfind(b"\n", 0, pos) + 1
    indent = raw[line_start:pos]
    return (line_start, indent) if not indent.strip() else None


def _scan(raw: bytes, unit_names: tuple[str, ...]):
    """Units in document order: dicts of byte offsets of their start tag, end tag and
    children (first of each name)."""
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()
    units: list[dict] = []
    stack: list[str] = []
    current: list[dict | None] = [None]

    def start(name, attrs):
        local = name.rsplit(":", 1)[-1]
        pos = parser.CurrentByteIndex
        if local in unit_names:
            current[0] = {"start": pos, "name": name, "children": {}, "depth": len(stack),
                          "segments": []}
            units.append(current[0])
        elif current[0] is not None:
            current[0]["children"].setdefault(local, (pos, name, dict(attrs)))
            if local == "segment":
                current[0]["segments"].append((pos, dict(attrs)))
        stack.append(name)

    def end(name):
        stack.pop()
        u = current[0]
        if u is not None and len(stack) == u["depth"] and name == u["name"]:
            u["end"] = parser.CurrentByteIndex
            current[0] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(raw, True)
    return units


def _insert_line(raw: bytes, pos: int, text: str, indent: bytes | None) -> tuple[int, bytes]:
    """Where and what to insert so ``text`` stands on its own line before ``pos``."""
    spot = _indent_before(raw, pos)
    if spot is None:
        return pos, text.encode()
    line_start, own = spot
    return line_start, (indent if indent is not None else own) + text.encode() + b"\n"


def mark_xliff(path: Path, marks: dict[int, list[str]], out: Path) -> int:
    """``marks``: {unit position (0-based, document order): [reasons]}."""
    raw = _utf8_bytes(path)
    v2 = bool(re.search(rb"<(?:\w+:)?xliff[^>]*version=[\"']2", raw[:3000]))
    units = _scan(raw, ("unit",) if v2 else ("trans-unit",))
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement)
    for index, reasons in marks.items():
        u = units[index]
        prefix = u["name"][: -len(u["name"].rsplit(":", 1)[-1])]
        text = "; ".join(_one_line(r) for r in dict.fromkeys(reasons))
        children = u["children"]
        if v2:
            edits += _segment_states(raw, u["segments"])
            if "notes" in children:
                notes_end = raw.index(b"</" + (prefix + "notes").encode(), children["notes"][0])
                note = f'<{prefix}note category="e5desk">{escape(text)}</{prefix}note>'
                edits.append((notes_end, notes_end, note.encode()))
            else:
                at = _tag_end(raw, u["start"]) + 1
                note = (f'<{prefix}notes><{prefix}note category="e5desk">{escape(text)}'
                        f"</{prefix}note></{prefix}notes>")
                edits.append((at, at, note.encode()))
            continue
        if "target" in children:
            t_start = children["target"][0]
            t_end = _tag_end(raw, t_start)
            tag = raw[t_start:t_end + 1]
            new = re.sub(rb"""\sstate=("[^"]*"|'[^']*')""", b"", tag)
            close = 2 if new.endswith(b"/>") else 1
            new = new[:-close].rstrip() + f' state="{XLIFF_STATE}"'.encode() + new[-close:]
            edits.append((t_start, t_end + 1, new))
            indent = _indent_before(raw, t_start)
        else:
            indent = None
        note = f'<{prefix}note from="e5desk">{escape(text)}</{prefix}note>'
        at, ins = _insert_line(raw, u["end"], note, indent[1] if indent else None)
        edits.append((at, at, ins))
    _write_edits(raw, edits, out)
    return len(marks)


def _segment_states(raw: bytes, segments: list) -> list[tuple[int, int, bytes]]:
    """XLIFF 2.0 has no needs-review state: its states run initial -> translated ->
    reviewed -> final. A flagged segment that was reviewed or final goes back to
    ``translated`` (translated, not reviewed); every flagged segment gets
    ``subState="e5desk:needs-review"`` (a prefix:value, allowed beside an explicit state).
    An ``initial`` segment stays initial."""
    edits = []
    for start, attrs in segments:
        end = _tag_end(raw, start)
        tag = raw[start:end + 1]
        state = attrs.get("state", "initial")
        new = re.sub(rb"""\s(?:state|subState)=("[^"]*"|'[^']*')""", b"", tag)
        close = 2 if new.endswith(b"/>") else 1
        wanted = "initial" if state == "initial" else "translated"
        new = (new[:-close].rstrip() + f' state="{wanted}" subState="{XLIFF2_SUBSTATE}"'.encode()
               + new[-close:])
        edits.append((start, end + 1, new))
    return edits


def mark_tmx(path: Path, marks: dict[int, list[str]], out: Path) -> int:
    """``marks``: {unit position (0-based, document order): [reasons]}."""
    raw = _utf8_bytes(path)
    units = _scan(raw, ("tu",))
    edits: list[tuple[int, int, bytes]] = []
    for index, reasons in marks.items():
        u = units[index]
        text = "; ".join(_one_line(r) for r in dict.fromkeys(reasons))
        prop = f"<prop type={quoteattr(TMX_PROP)}>{escape(text)}</prop>"
        first = u["children"].get("tuv")
        if first is None:
            continue
        at, ins = _insert_line(raw, first[0], prop, None)
        edits.append((at, at, ins))
    _write_edits(raw, edits, out)
    return len(marks)


def _write_edits(raw: bytes, edits: list[tuple[int, int, bytes]], out: Path) -> None:
    for start, end, new in sorted(edits, key=lambda x: (x[0], x[1]), reverse=True):
        raw = raw[:start] + new + raw[end:]
    with atomic_open(out, "wb") as f:
        f.write(raw)


MARKERS = {"po": mark_po, "xliff": mark_xliff, "tmx": mark_tmx}
