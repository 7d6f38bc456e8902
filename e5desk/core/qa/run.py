"""The QA pass as one workflow: read entries from the inputs, run the chosen checks (rules,
meaning, consistency), and write marked copies. The CLI, the Python API and the window
call these."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from e5desk.core.errors import E5DeskError
from e5desk.core.qa import consistency
from e5desk.core.qa.entries import READERS, Entry, from_sentence_set
from e5desk.core.qa.report import Finding, sort_findings
from e5desk.core.qa.rules import MODEL_CHECKS, run_rules

Encode = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised vectors


@dataclass
class QAResult:
    entries: list[Entry]
    findings: list[Finding]  # sorted: errors first; --all adds meaning pairs that look fine
    checks: list[str]
    pairs: list[tuple[str, str]] = field(default_factory=list)  # languages compared by meaning
    meaning_checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[Finding]:
        return [x for x in self.findings if x.flagged]


def input_format(path: Path, format: str | None = None) -> str:
    from e5desk.core.batch import is_batch_output
    from e5desk.core.data import detect_format
    from e5desk.core.data.encoding import decode, read_input

    if format:
        return format
    if is_batch_output(path):
        return "batch"  # a folder, manifest or shard of `e5desk batch`: its sentence set
    if Path(path).is_dir():
        return "parallel"
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    head, _, _ = decode(read_input(path)[:20000], path)
    return detect_format(Path(path), head)


def read_entries(paths: Sequence[str | Path], format: str | None = None,
                 src_lang: str | None = None, notes: list[str] | None = None) -> list[Entry]:
    """Entries of every input: catalogues (PO), XLIFF and TMX read with what QA needs;
    other parallel sets (wide CSV, JSONL, ...) through their sentence set."""
    from e5desk.core.data import load_sentence_set
    from e5desk.core.langid import normalize_code

    out: list[Entry] = []
    for p in paths:
        p = Path(p)
        fmt = input_format(p, format)
        if fmt in READERS:
            if fmt != "po" and p.stat().st_size > 2 * 2**30:
                raise E5DeskError(f"{p}: too large to check")
            found = READERS[fmt](p)
        else:
            result = load_sentence_set(p, format=fmt)
            if notes is not None:
                notes += [f"{p}: {x}" for x in result.problems()]
            found = from_sentence_set(p, fmt, result.sentence_set, src_lang)
        codes: dict = {}
        for e in found:
            for attr in ("src_lang", "tgt_lang"):
                v = getattr(e, attr)
                if v not in codes:
                    codes[v] = normalize_code(v)
                setattr(e, attr, codes[v])
        out += found
    return out


def _plain(e: Entry, text: str) -> str:
    """The text the model reads: XLIFF/TMX inline-code markers left out."""
    return re.sub(r"</?\w+(?: [\w.-]+)?/?>", "", text) if e.fmt in ("xliff", "tmx") else text


ABBREVIATION_NOTE = re.compile(r"abbr|short|\bkurz|abrév|сокр", re.IGNORECASE)
SHORT_FORM = 6  # characters: "Tue", "Sept.", "4月", "Пт"


def _loose_word(text: str) -> str:
    return str(text).strip().casefold().rstrip(".")


# Messages whose translation is by convention no translation of the words.
CONVENTIONS = {"translator-credits": "the translators' names (a gettext convention)",
               "translator_credits": "the translators' names (a gettext convention)"}


def abbreviation(e: Entry, sources: set[str]) -> str | None:
    """Why a short entry is an abbreviation (so "Fri" -> "Пт", "apr" -> "4月" is no
    doubtful meaning): its msgctxt or comments say so, or the catalogue has the long form
    of its source ("Tue" beside "Tuesday"). None otherwise."""
    src, tgt = e.source.strip(), e.target.strip()
    if src in CONVENTIONS:
        return CONVENTIONS[src]
    if len(src) > SHORT_FORM or " " in src:
        return None
    # a language that does not abbreviate writes the whole word ("Wed" -> "الأربعاء")
    if len(tgt) <= 3 * SHORT_FORM and ABBREVIATION_NOTE.search(f"{e.context or ''} "
                                                                f"{e.comment}"):
        return f"an abbreviation by its context ({e.context or e.comment})"
    if len(tgt) > SHORT_FORM:
        return None
    short = _loose_word(src)
    if len(short) >= 2 and any(s != short and " " not in s and s.startswith(short)
                               for s in sources):
        return "an abbreviation (the catalogue has the long form of its source)"
    return None


def meaning_findings(entries: Sequence[Entry], encode: Encode, src_lang: str | None = None,
                     tgt_lang: str | None = None, all_pairs: bool = False
                     ) -> tuple[list[Finding], list[tuple[str, str]], int]:
    """The meaning check of ``e5desk check`` (core.evaluate.suspect_translations) on entries:
    each translation against its source, the other sources and translations as rivals."""
    from e5desk.core.evaluate import suspect_translations

    texts: list[str] = []
    langs: list = []
    groups: list = []
    rows: dict = {}
    entries_of_row: dict[int, list[Entry]] = {}
    first_line: dict[int, int] = {}

    def row(key, lang, text, e: Entry, variant: int = 0) -> int:
        k = (key, lang, text, variant)
        if k not in rows:
            rows[k] = len(texts)
            texts.append(_plain(e, text))
            langs.append(lang)
            group = "\x04".join(key) if key[0] else key[1]
            groups.append(f"{group}\x05{variant}" if variant else group)
            first_line[rows[k]] = e.line
        return rows[k]

    # One source translated several ways in a language (an XLIFF beside a memory): each
    # variant is its own group with its own copy of the source row, so every translation is
    # judged, not only the last one seen.
    variants: dict = {}
    for e in entries:
        if e.target:
            seen = variants.setdefault((e.key, e.tgt_lang), {})
            v = seen.setdefault(e.target, len(seen))
            row(e.key, e.src_lang, e.source, e, v)
            t = row(e.key, e.tgt_lang, e.target, e, v)
            entries_of_row.setdefault(t, []).append(e)
        else:
            row(e.key, e.src_lang, e.source, e)
    pair_counts = Counter((e.src_lang, e.tgt_lang) for e in entries if e.target)
    pairs = [p for p, _ in pair_counts.most_common()
             if src_lang in (None, p[0]) and tgt_lang in (None, p[1]) and p[0] != p[1]]
    if not pairs:
        return [], [], 0
    vectors = encode(texts)
    sources = {_loose_word(e.source) for e in entries}
    out: list[Finding] = []
    checked = 0
    for a, b in pairs:
        found = suspect_translations(vectors, texts, langs, groups, a, b)
        checked += len(found)
        swapped = _flag_swaps(found, vectors, texts)
        for n, x in enumerate(found):
            if not (x.flagged or all_pairs):
                continue
            for e in entries_of_row.get(x.tgt, []):
                flagged, reason = x.flagged, x.reason
                # an exchange this clear is no abbreviation's loose match ("Mon" <-> "Fri")
                if flagged and n not in swapped and (why := abbreviation(e, sources)):
                    flagged, reason = False, f"looks fine: {why}"
                out.append(Finding("meaning", e, reason, flagged=flagged, doubt=x.doubt,
                                   score=x.score, src_line=first_line.get(x.src)))
    return out, pairs, checked


def _flag_swaps(found: list, vectors: np.ndarray, texts: list[str]) -> set[int]:
    """Flag pairs of entries whose translations look exchanged (core.qa.swaps), where the
    suspect rule let them pass; returns the positions in ``found`` of every such entry."""
    from e5desk.core.qa.swaps import swapped_pairs
    from e5desk.core.translations import is_translatable

    usable = [is_translatable(texts[x.src]) and is_translatable(texts[x.tgt]) for x in found]
    swaps = swapped_pairs(vectors, texts, [(x.src, x.tgt) for x in found], usable)
    for i, (j, gain) in swaps.items():
        x, y = found[i], found[j]
        if not x.flagged:
            x.flagged, x.doubt = True, max(x.doubt, gain)
            x.reason = (f"the translations of this entry and of “{_short(texts[y.src])}” look "
                        f"exchanged: swapped back, the two pairs score {gain:.1f} points more")
    return set(swaps)


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def run_checks(entries: Sequence[Entry], checks: Sequence[str], encode: Encode | None = None,
               src_lang: str | None = None, tgt_lang: str | None = None,
               all_pairs: bool = False) -> QAResult:
    """Every chosen check on ``entries``; ``encode`` is needed for the meaning and
    similar-source checks (left out, with a note, without one)."""
    chosen = list(checks)
    notes: list[str] = []
    entries = [e for e in entries if src_lang in (None, e.src_lang)
               and tgt_lang in (None, e.tgt_lang)]
    findings: list[Finding] = []
    for e in entries:
        findings += [Finding(c, e, reason) for c, reason in run_rules(e, chosen)]
    if "same-source" in chosen:
        findings += consistency.same_source(entries)
    if "same-translation" in chosen:
        findings += consistency.same_translation(entries)
    pairs: list = []
    checked = 0
    if encode is None:
        skipped = [c for c in chosen if c in MODEL_CHECKS]
        if skipped:
            notes.append(f"left out without a model: {', '.join(skipped)}")
    else:
        cache: dict[str, np.ndarray] = {}

        def cached(texts: list[str]) -> np.ndarray:
            todo = [t for t in dict.fromkeys(texts) if t not in cache]
            if todo:
                for t, v in zip(todo, encode(todo), strict=True):
                    cache[t] = v
            return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 1))

        if "meaning" in chosen:
            found, pairs, checked = meaning_findings(entries, cached, src_lang, tgt_lang,
                                                     all_pairs)
            findings += found
        if "similar-source" in chosen:
            findings += consistency.similar_sources(entries, cached)
    return QAResult(list(entries), sort_findings(findings), chosen, pairs, checked, notes)


def mark_targets(inputs: Sequence[str | Path], out: str | Path,
                 formats: dict[str, str] | None = None) -> dict[Path, Path]:
    """Where ``mark_copies`` writes each markable input; raises (naming the path) when
    ``out`` cannot take them, so the command can refuse before any work."""
    from e5desk.core.qa.mark import MARKERS, check_output

    out = Path(out)
    inputs = [Path(p) for p in inputs]
    formats = formats or {}
    markable = [p for p in inputs if formats.get(str(p), input_format(p)) in MARKERS]
    if not markable:
        raise E5DeskError("--mark-fuzzy: no catalogue to mark (PO, XLIFF or TMX inputs only)")
    if len(markable) > 1 and not out.is_dir():
        raise E5DeskError(f"{out}: with several catalogues, --mark-fuzzy names an existing "
                          "folder for the marked copies")
    targets = {p: (out / p.name if out.is_dir() else out) for p in markable}
    names = Counter(targets.values())
    if any(n > 1 for n in names.values()):
        raise E5DeskError(f"{out}: two catalogues have the same file name; mark them one at "
                          "a time")
    for t in targets.values():
        if not t.parent.is_dir():
            raise E5DeskError(f"{t}: folder {t.parent} does not exist")
        check_output(inputs, t)
    return targets


def mark_copies(findings: Sequence[Finding], inputs: Sequence[str | Path], out: str | Path,
                formats: dict[str, str] | None = None) -> list[tuple[Path, int]]:
    """Write each catalogue (PO, XLIFF, TMX) among ``inputs`` with its flagged entries marked
    for review: to ``out`` (one input) or into the folder ``out`` (several, or ``out`` an
    existing folder). Returns [(path written, entries marked)]. Untranslated entries are
    not marked (there is nothing to review)."""
    from e5desk.core.qa.mark import MARKERS

    formats = formats or {}
    targets = mark_targets(inputs, out, formats)
    marks: dict[str, dict[int, list[str]]] = {}
    for x in findings:
        if x.flagged and x.check != "untranslated":
            marks.setdefault(x.entry.file, {}).setdefault(x.entry.index, []).append(
                f"{x.check}: {x.reason}" if x.entry.fmt != "tmx"
                else f"{x.entry.tgt_lang}: {x.check}: {x.reason}")
    written = []
    for p in targets:
        fmt = formats.get(str(p), input_format(p))
        n = MARKERS[fmt](p, marks.get(str(p), {}), targets[p])
        written.append((targets[p], n))
    return written
