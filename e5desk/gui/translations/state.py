"""The Translations tab's rules without Qt: which languages and sets the pickers offer, the
rows of each sub-tab's table (learner, suspects with rule findings, mined pairs,
evaluation), the bar under the pointer, and the marked copy. Testable without a window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from e5desk.core.data.sentence_set import group_label, lang_keys

VS_UNRELATED, VS_TRANSLATIONS = "vs unrelated", "vs translations"  # issue 25
NO_CALIBRATION = "Where the score stands among unrelated pairs of the loaded sentences."
ALL_KINDS = "all kinds"
MISSING = "missing in translation"
MISSING_LIMIT = 50  # most doubtful meaning suspects whose unaligned words are looked up
# Rule and consistency checks on the loaded texts (meaning is the table's own check).
WINDOW_CHECKS = ("python-format", "c-format", "python-brace-format", "icu-format", "tags",
                 "numbers", "urls", "whitespace", "repeated-word", "end-punctuation",
                 "same-source", "same-translation")


def lang_name(lang: str) -> str:
    from e5desk.core.langid import display_name

    name = display_name(lang)
    return f"{lang} ({name})" if name and name != lang else lang


# -- choices ---------------------------------------------------------------------------------
def languages(combined) -> list[str]:
    """Every language of the loaded sentences, sorted (the learner's targets, the suspects'
    pickers)."""
    return sorted({str(x) for x in combined.lang if x}) if combined is not None else []


def default_suspect_pair(combined) -> tuple[str, str] | None:
    from e5desk.core.translations import default_pair

    return default_pair(list(combined.lang), list(combined.group)) if combined is not None \
        else None


def set_langs(combined, name: str) -> list:
    """The language of each row of the loaded set ``name``."""
    if combined is None:
        return []
    names = combined.set_name  # set names are strings: compared without a per-row list
    return combined.lang[np.equal(names, name)].tolist()


def mining_rows(combined, s_name: str, t_name: str, a: str, b: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of set ``s_name`` in language ``a`` and of set ``t_name`` in language ``b``."""
    names = np.array([str(x) for x in combined.set_name])
    langs = lang_keys(combined.lang)
    return (np.flatnonzero((names == s_name) & (langs == a)),
            np.flatnonzero((names == t_name) & (langs == b)))


# -- tables ----------------------------------------------------------------------------------
@dataclass
class Table:
    headers: list[str]
    columns: list
    formats: list
    muted: list[bool] | None = None
    notes: list[bool] | None = None
    extra: dict = field(default_factory=dict)


def learner_table(candidates, targets: Sequence[str], texts, groups, cal,
                  share_below: Callable) -> Table:
    """One block per target language: the found translation and the runners-up, or a
    "no close translation" row with the (greyed, weak) candidates below it.
    ``extra``: found (rows of the found translations), missing (languages), shown."""
    by_lang: dict[str, list] = {}
    for cand in candidates:
        by_lang.setdefault(cand.lang, []).append(cand)
    rows: list[tuple] = []  # lang, rank, score, sentence, group, match, muted, note
    missing = []
    for lang in list(targets) or list(by_lang):
        cands = by_lang.get(lang, [])
        if not cands:
            rows.append((lang, None, np.nan, f"no sentences in {lang_name(lang)} to offer",
                         "", "none", True, True))
            missing.append(lang)
            continue
        found = cands[0].found
        if not found:
            rows.append((lang, None, np.nan, f"no close translation in {lang_name(lang)}",
                         "", "not found", False, True))
            missing.append(lang)
        for cand in cands:
            match = ("found" if cand.found else "runner-up") if found else "weak"
            rows.append((lang, cand.rank, cand.score, texts[cand.row],
                         group_label(groups[cand.row]), match, not found, False))
    scores = [r[2] for r in rows]
    return Table(
        ["lang", "rank", "score", "sentence", "group", "match", VS_UNRELATED, VS_TRANSLATIONS],
        [[r[0] for r in rows], np.array([r[1] for r in rows], dtype=object),
         np.array(scores, dtype=float), [r[3] for r in rows], [r[4] for r in rows],
         [r[5] for r in rows], share_below(cal, scores),
         share_below(cal, scores, translations=True)],
        [None, "d", ".2f", None, None, None, ".1%", ".1%"],
        muted=[r[6] for r in rows], notes=[r[7] for r in rows],
        extra={"found": [c.row for c in candidates if c.found], "missing": missing,
               "shown": list(targets) or list(by_lang)})


def learner_message(missing: Sequence[str], shown: Sequence[str]) -> str:
    if missing:
        return (f"No close translation in {', '.join(missing)}; found in "
                f"{len(shown) - len(missing)} of {len(shown)} languages.")
    return f"Found a translation in all {len(shown)} languages."


def rule_findings(combined, a: str, b: str, files: Sequence[Path] = ()) -> list:
    """Rule and consistency findings (core/qa) on the loaded a → b translations: the same
    checks as `e5desk check --checks rules,consistency`, read from the loaded texts. The
    gettext flags of the loaded catalogues ``files`` (python-format, c-format,
    python-brace-format, no-c-format, ...) decide the placeholder checks, as in `check`."""
    from e5desk.core.qa import run_checks
    from e5desk.core.qa.entries import from_sentence_set

    if combined is None or not a or not b:
        return []
    entries = [e for e in from_sentence_set(Path(str(combined.source or "")), "window",
                                            combined, a) if e.tgt_lang == b]
    flags = catalogue_flags(files)
    for e in entries:
        e.flags = flags.get((e.source, e.target), flags.get((e.source, None), ()))
    return [x for x in run_checks(entries, WINDOW_CHECKS).findings if x.flagged]


def catalogue_flags(files: Sequence[Path]) -> dict[tuple[str, str | None], tuple[str, ...]]:
    """{(msgid, msgstr): flags} of the PO catalogues among ``files`` ((msgid, None) too,
    for a message whose translation the loaded set shows another way); a file that cannot
    be read adds nothing (its load already said why)."""
    from e5desk.core.errors import E5DeskError
    from e5desk.core.qa.entries import read_po
    from e5desk.core.qa.run import input_format

    out: dict = {}
    for path in files:
        try:
            if input_format(Path(path)) != "po":
                continue
            found = read_po(Path(path))
        except (E5DeskError, OSError, ValueError):
            continue
        for e in found:
            if e.flags:
                out[(e.source, e.target)] = e.flags
                out.setdefault((e.source, None), e.flags)
    return out


def suspect_table(suspects, findings, texts, groups, a: str = "", b: str = "") -> Table:
    """Rule findings first (errors before warnings), then the meaning suspects, most
    doubtful first. ``extra``: kinds (one per row), pairs (meaning rows: (row, source,
    translation) of the flagged ones, most doubtful first)."""
    n_rules = len(findings)
    doubt = [np.nan] * n_rules + [s.doubt for s in suspects]
    group = [group_label(groups[x.entry.index]) for x in findings] + \
        [group_label(s.group) for s in suspects]
    source = [x.entry.source for x in findings] + [texts[s.src] for s in suspects]
    target = [x.entry.target for x in findings] + [texts[s.tgt] for s in suspects]
    score = [np.nan] * n_rules + [s.score for s in suspects]
    kinds = [x.kind for x in findings] + ["meaning"] * len(suspects)
    reason = [f"{x.severity}: {x.reason}" for x in findings] + [s.reason for s in suspects]
    fine = [False] * n_rules + [s.reason == "looks fine" for s in suspects]
    pairs = [(n_rules + i, texts[s.src], texts[s.tgt]) for i, s in enumerate(suspects)
             if s.reason != "looks fine"]
    return Table(
        ["doubt", "group", f"source ({a})" if a else "source",
         f"translation ({b})" if b else "translation", "score", "kind", MISSING, "reason"],
        [np.array(doubt, dtype=float), group, source, target, np.array(score, dtype=float),
         kinds, [""] * len(kinds), reason],
        [".1f", None, None, None, ".1f", None, None, None], muted=fine,
        extra={"kinds": kinds, "pairs": pairs[:MISSING_LIMIT], "flagged": fine.count(False),
               "rules": n_rules, "texts": list(zip(source, target, strict=True))})


SIMILAR_SHOWN = 8  # nearest sources the Similar strings panel lists
DIVERGES = "translated differently"


def similar_strings(texts, langs, groups, vectors: np.ndarray, source: str, translation: str,
                    a: str, b: str, n: int = SIMILAR_SHOWN) -> Table:
    """The Similar strings panel for one entry (``source`` in ``a``, ``translation`` in
    ``b``): its ``n`` nearest other ``a`` sources by embedding (cos x 100) that have a
    ``b`` translation, each with that translation and how alike it is to the entry's own.
    A neighbour is flagged when the sources are near-identical (>= SIMILAR_SOURCE) and the
    translations diverge (DIVERGE points less alike), the rule of ``check``'s
    similar-source. ``extra``: diverging (row flags), found (whether the entry's source
    is among the loaded ``a`` texts)."""
    from e5desk.core.qa.consistency import DIVERGE, SIMILAR_SOURCE
    from e5desk.core.translations import is_translatable

    headers = ["similarity", f"similar source ({a})", f"its translation ({b})",
               "translations alike", "note"]
    formats = [".1f", None, None, ".1f", None]
    by_group: dict = {}
    for row, (lang, g) in enumerate(zip(langs, groups, strict=True)):
        if g is not None and lang == b:
            by_group.setdefault(g, []).append(row)
    own = next((r for r, (t, lang) in enumerate(zip(texts, langs, strict=True))
                if lang == a and t == source), None)
    own_t = next((r for r, (t, lang) in enumerate(zip(texts, langs, strict=True))
                  if lang == b and t == translation), None)
    if own is None:
        return Table(headers, [[] for _ in headers], formats,
                     extra={"diverging": [], "found": False})
    candidates, seen = [], {source}
    for r, (t, lang, g) in enumerate(zip(texts, langs, groups, strict=True)):
        if lang == a and g in by_group and t not in seen and is_translatable(t):
            seen.add(t)
            candidates.append(r)
    cand = np.asarray(candidates, dtype=np.int64)
    sims = vectors[cand] @ vectors[own] * 100 if len(cand) else np.zeros(0)
    order = np.argsort(-sims, kind="stable")[:n]
    rows: list[tuple] = []
    for i in order:
        r = int(cand[i])
        for t_row in by_group[groups[r]][:1]:  # one translation per neighbour
            alike = float(vectors[t_row] @ vectors[own_t] * 100) if own_t is not None \
                else np.nan
            diverges = bool(sims[i] >= SIMILAR_SOURCE and alike < sims[i] - DIVERGE
                            and texts[t_row].strip() != translation.strip())
            rows.append((float(sims[i]), texts[r], texts[t_row], alike,
                         DIVERGES if diverges else ""))
    return Table(headers, [np.array([x[0] for x in rows], dtype=float), [x[1] for x in rows],
                           [x[2] for x in rows], np.array([x[3] for x in rows], dtype=float),
                           [x[4] for x in rows]], formats,
                 notes=[bool(x[4]) for x in rows],
                 extra={"diverging": [bool(x[4]) for x in rows], "found": True})


def kind_choices(kinds: Sequence[str]) -> list[str]:
    """The kind filter's entries: all kinds, then each kind present (meaning last)."""
    present = sorted(set(kinds) - {"meaning"})
    return [ALL_KINDS, *present, *(["meaning"] if "meaning" in kinds else [])]


def rows_of_kind(kinds: Sequence[str], kind: str) -> np.ndarray:
    if kind in ("", ALL_KINDS):
        return np.arange(len(kinds))
    return np.flatnonzero(np.asarray(kinds, dtype=object) == kind)


def missing_words(encoder, pairs: Sequence[tuple[int, str, str]], progress=None,
                  cancelled=None) -> dict[int, str]:
    """{table row: the source's content words the alignment could not pair} for the meaning
    suspects ``pairs`` (the approach of core/qa/words.py: align, then unaligned words)."""
    from e5desk.core.align import align_pairs, unaligned_content_words

    if not pairs:
        return {}
    found = align_pairs(encoder, [(s, t) for _, s, t in pairs], progress=progress,
                        cancelled=cancelled)
    return {row: ", ".join(unaligned_content_words(a)[0])
            for (row, _, _), a in zip(pairs, found, strict=True)}


def mined_table(pairs, texts, src_rows, tgt_rows, a: str = "", b: str = "") -> Table:
    return Table(
        ["margin", "cosine", "source lang", f"source ({a})", "target lang", f"target ({b})"],
        [np.array([p.margin for p in pairs], dtype=float),
         np.array([p.cosine * 100 for p in pairs], dtype=float), [a] * len(pairs),
         [texts[src_rows[p.src]] for p in pairs], [b] * len(pairs),
         [texts[tgt_rows[p.tgt]] for p in pairs]],
        [".4f", ".1f", None, None, None, None])


def eval_table(results: dict[str, dict]) -> Table:
    from e5desk.core.evaluate import METRICS

    names = list(results)
    return Table(["", *METRICS],
                 [names, *[np.array([results[n].get(m, np.nan) for n in names])
                           for m in METRICS]],
                 [None] + [".3f"] * len(METRICS))


def bar_values(results: dict[str, dict], metric: str) -> tuple[list[str], np.ndarray]:
    """Names and heights of the bars: the chosen metric per row of the table."""
    names = list(results)
    return names, np.array([results[n].get(metric, np.nan) for n in names], dtype=float)


def bar_at(values: np.ndarray, x: float, y: float) -> int | None:
    """Index of the bar under plot coordinates (x, y), if any."""
    i = int(round(x))
    if 0 <= i < len(values) and abs(x - i) <= 0.35:
        top = 0.0 if np.isnan(values[i]) else float(values[i])
        if 0 <= y <= max(top, 0.02):
            return i
    return None


# -- marked copy -----------------------------------------------------------------------------
def markable_files(sets) -> list[Path]:
    """Loaded files that a marked copy can be written for (PO, XLIFF, TMX)."""
    from e5desk.core.qa.mark import MARKERS
    from e5desk.core.qa.run import input_format

    out = []
    for s in sets:
        p = Path(str(s.source or ""))
        if str(s.source or "") and p.is_file() and p not in out:
            try:
                if input_format(p) in MARKERS:
                    out.append(p)
            except Exception:  # noqa: BLE001 - an unreadable file is just not offered
                continue
    return out


def write_marked_copy(path: Path, out: Path, encode: Callable | None = None
                      ) -> tuple[Path, int, str]:
    """`e5desk check INPUT --mark-fuzzy OUT` for one catalogue: every check (meaning and
    similar sources when ``encode`` is given), then the copy. Returns (written, entries
    marked, a summary of the findings). Never over the input (refused)."""
    from e5desk.core.qa import mark_copies, pick_checks, read_entries, run_checks, summary
    from e5desk.core.qa.mark import check_output

    check_output([path], out)  # before any work
    result = run_checks(read_entries([path]), pick_checks("all"), encode)
    [(written, n)] = mark_copies(result.findings, [path], out)
    return written, n, summary(result.findings)
