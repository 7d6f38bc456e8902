"""Rule checks: what Weblate's and msgfmt's checks catch, on one ``Entry`` at a time.

One table (``CHECKS``) names every check of the QA pass: its id (what ``--checks`` picks),
its kind (how the report groups findings), its severity and a one-line description.
``error``: the running program breaks (a placeholder or tag lost, plural forms missing);
``warning``: a reader is misled (a number changed, a URL dropped, a doubtful meaning);
``info``: worth a look (punctuation, untranslated entries, consistency)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from e5desk.core.qa.entries import Entry


@dataclass(frozen=True)
class Check:
    id: str
    kind: str
    severity: str
    message: str


CHECKS: dict[str, Check] = {c.id: c for c in [
    Check("python-format", "placeholder", "error",
          "python-format placeholders (%(name)s, %s) differ from the source"),
    Check("c-format", "placeholder", "error",
          "printf placeholders (%s, %d, %1$s) differ from the source"),
    Check("python-brace-format", "placeholder", "error",
          "brace placeholders ({name}, {0}) differ from the source"),
    Check("icu-format", "placeholder", "error",
          "ICU/brace arguments ({0}, {count, plural, ...}) differ from the source"),
    Check("tags", "markup", "error", "HTML/XML tags or inline codes differ from the source"),
    Check("plural-forms", "plural", "error",
          "plural forms do not match the catalogue's Plural-Forms header"),
    Check("numbers", "number", "warning", "numbers differ from the source"),
    Check("urls", "url", "warning", "URLs or e-mail addresses differ from the source"),
    Check("whitespace", "whitespace", "warning",
          "leading or trailing whitespace/newlines differ from the source"),
    Check("repeated-word", "style", "warning", "a word is repeated (“the the”)"),
    Check("same-as-source", "untranslated", "warning",
          "the translation is the source text (names and loanwords allowed)"),
    Check("end-punctuation", "punctuation", "info",
          "the sentence ends differently from the source (. ? ! : …)"),
    Check("untranslated", "untranslated", "info", "no translation"),
    Check("meaning", "meaning", "warning",
          "the translation matches another source better (by meaning; needs a model)"),
    Check("same-source", "consistency", "warning",
          "one source (and context) translated in different ways"),
    Check("same-translation", "consistency", "info",
          "different sources given one translation"),
    Check("similar-source", "consistency", "info",
          "near-identical sources (by meaning) whose translations diverge (needs a model)"),
]}
SEVERITIES = ("error", "warning", "info")
MODEL_CHECKS = ("meaning", "similar-source")
RULE_IDS = [c for c in CHECKS if CHECKS[c].kind not in ("meaning", "consistency")]


def pick_checks(spec: str | Iterable[str] | None) -> list[str]:
    """``--checks``: comma-separated check ids, kinds (``placeholder``), or ``all``,
    ``rules`` (no model), ``consistency``; ``-id`` leaves one out (``all,-meaning``)."""
    if spec is None:
        return list(CHECKS)
    items = [x.strip() for x in (spec.split(",") if isinstance(spec, str) else spec)]
    chosen: list[str] = []
    for item in (x for x in items if x):
        drop = item.startswith("-")
        name = item.lstrip("-")
        if name == "all":
            ids = list(CHECKS)
        elif name == "rules":
            ids = RULE_IDS
        elif name in CHECKS:
            ids = [name]
        else:
            ids = [c for c in CHECKS if CHECKS[c].kind == name]
        if not ids:
            from e5desk.core.errors import E5DeskError

            kinds = sorted({c.kind for c in CHECKS.values()})
            raise E5DeskError(f"unknown check {name!r}: expected all, rules, a kind "
                              f"({', '.join(kinds)}) or a check id ({', '.join(CHECKS)})")
        if drop:
            if not chosen:
                chosen = list(CHECKS)
            chosen = [c for c in chosen if c not in ids]
        else:
            chosen += [c for c in ids if c not in chosen]
    return chosen


# --- placeholders -------------------------------------------------------------------------

_PY_FORMAT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                        r"[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")
_C_FORMAT = re.compile(r"%(?:(?P<pos>\d+)\$)?[-#0 +']*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                       r"(?P<len>hh|h|ll|l|L|q|j|z|Z|t|I64|I32)?"
                       r"(?P<conv>[diouxXeEfFgGaAcCsSpn%])")
# Without a flag only the unambiguous printf shapes count ("100 % sure" is no placeholder).
_AUTO_PRINTF = re.compile(r"%(?:\((?P<name>[A-Za-z_]\w*)\)|(?P<pos>\d+)\$)?[-#0+]?\d*"
                          r"(?:\.\d+)?(?P<len>l|ll|z)?(?P<conv>[sdifuxXc])(?![A-Za-z])")


STRAY = "% (not a valid directive)"


def _stray(pattern: re.Pattern, text: str) -> list[str]:
    """A ``%`` that starts no valid directive ("100 %" in a python-format string)."""
    return [STRAY] * pattern.sub("", text).count("%")


def python_format(text: str) -> list[str]:
    out = _stray(_PY_FORMAT, text)
    for m in _PY_FORMAT.finditer(text):
        if m.group("conv") == "%":
            continue
        out.append(f"%({m.group('name')}){m.group('conv')}" if m.group("name") is not None
                   else f"%{m.group('conv')}")
    return out


def c_format(text: str, pattern: re.Pattern = _C_FORMAT) -> list[str]:
    out = _stray(pattern, text) if pattern is _C_FORMAT else []
    for m in pattern.finditer(text):
        if m.group("conv") == "%":
            continue
        name = m.groupdict().get("name")
        pos = m.group("pos")
        conv = (m.group("len") or "") + m.group("conv").replace("i", "d")
        out.append(f"%({name}){conv}" if name else f"%{pos}${conv}" if pos else f"%{conv}")
    return out


_DOUBLE_BRACE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def brace_fields(text: str, python: bool = True) -> list[str]:
    """Top-level ``{...}`` fields by name ({name}, {0}, {}, {name!r:>10} -> name); ``{{`` is
    a literal in python-brace-format; ICU sub-messages ({n, plural, one {...}}) give their
    argument name only."""
    out, depth, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        if python and depth == 0 and text.startswith(("{{", "}}"), i):
            i += 2
            continue
        if not python and depth == 0 and (m := _DOUBLE_BRACE.match(text, i)):
            out.append("{{" + m.group(1) + "}}")  # Vue/Angular/Jinja "{{ name }}"
            i = m.end()
            continue
        if ch == "{":
            if depth == 0:
                m = re.match(r"\{\s*([^{}!:,\s]*)", text[i:])
                name = m.group(1) if m else ""
                rest = text[i + (m.end() if m else 1):]
                kind = re.match(r"\s*,\s*(\w+)", rest)
                out.append("{" + name + (f", {kind.group(1)}" if kind and not python else "")
                           + "}")
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        i += 1
    return out


def _brace_looks_like_fields(text: str) -> bool:
    return bool(re.search(r"\{\s*(?:\d+|[A-Za-z_]\w*)\s*[,!:}]", text))


def _compare(src: list[str], tgt: list[str], ordered: bool) -> str | None:
    if Counter(src) == Counter(tgt):
        if ordered and src != tgt and all(not re.match(r"%\(|%\d+\$", x) for x in src):
            return "positional placeholders in another order: " + " ".join(tgt)
        return None
    missing = list((Counter(src) - Counter(tgt)).elements())
    extra = list((Counter(tgt) - Counter(src)).elements())
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if extra:
        parts.append("not in the source " + ", ".join(extra))
    return "; ".join(parts)


def _format_kinds(e: Entry) -> list[str]:
    """The placeholder syntaxes that apply: the catalogue's flags, else those the source
    clearly uses (XLIFF, TMX and tables carry no flags)."""
    flags = set(e.flags)
    declared = [f for f in ("python-format", "c-format", "python-brace-format") if f in flags]
    if declared:
        return declared
    kinds = []
    texts = [e.source] + ([e.source_plural] if e.source_plural else [])
    if "no-c-format" not in flags and "no-python-format" not in flags and \
            any(c_format(t, _AUTO_PRINTF) for t in texts):
        kinds.append("auto-printf")
    if "no-python-brace-format" not in flags and any(_brace_looks_like_fields(t)
                                                    for t in texts):
        kinds.append("icu-format")
    return kinds


def _placeholders(kind: str, text: str) -> list[str]:
    if kind == "python-format":
        return python_format(text)
    if kind == "c-format":
        return c_format(text)
    if kind == "auto-printf":
        return c_format(text, _AUTO_PRINTF)
    return brace_fields(text, python=kind == "python-brace-format")


def _numbered(src: list[str], tgt: list[str]) -> list[str]:
    """printf: a translation may number the source's arguments to reorder them ("%s %s" ->
    "%2$s %1$s"); the source's placeholders as numbered ones when the translation does."""
    if not any("$" in x for x in tgt) or any("$" in x for x in src):
        return src
    out, n = [], 0
    for x in src:
        if x == STRAY or x.startswith("%("):
            out.append(x)
        else:
            n += 1
            out.append(f"%{n}${x[1:]}")
    return out


def _pairs(e: Entry) -> list[tuple[str, str, str]]:
    """(label, source, translation) to compare: the msgstr, or each plural form against the
    plural source (form 0 may follow the singular)."""
    if e.plurals:
        return [(f"msgstr[{k}]", e.source_plural or e.source, v)
                for k, v in sorted(e.plurals.items()) if v]
    return [("", e.source, e.target)] if e.target else []


def check_placeholders(e: Entry) -> list[tuple[str, str]]:
    out = []
    for kind in _format_kinds(e):
        check = kind
        if kind == "auto-printf":  # %(name)s is Python's shape, the rest printf's
            named = any(x.startswith("%(") for x in _placeholders(kind, e.source))
            check = "python-format" if named else "c-format"
        for label, src, tgt in _pairs(e):
            found, wanted = _placeholders(kind, tgt), _placeholders(kind, src)
            ordered = "format" in kind or "printf" in kind
            if kind in ("c-format", "auto-printf"):
                wanted = _numbered(wanted, found)
            if kind in ("python-brace-format", "icu-format"):
                ordered = all(x == "{}" for x in wanted)
            problem = _compare(wanted, found, ordered)
            if problem and e.plurals:
                # a form may follow the singular, and may leave the count out (Python's
                # gettext and most languages' "one" form); nothing renamed or invented
                singular = _placeholders(kind, e.source)
                if _compare(singular, found, ordered) is None or \
                        set(found) <= set(wanted) | set(singular):
                    problem = None
            if problem:
                out.append((check, f"{label + ': ' if label else ''}{problem}"))
    return out


# --- markup -------------------------------------------------------------------------------

_TAG = re.compile(r"</?([A-Za-z][\w:.-]*)(?:\s+[^<>]*?)?\s*/?>")


def tags(text: str) -> list[str]:
    out = []
    for m in _TAG.finditer(text):
        raw = m.group(0)
        name = m.group(1).lower()
        ident = re.match(r"</?[\w:.-]+\s+([\w-]+)\s*/?>$", raw)  # inline codes: <ph 1/>
        if ident and "=" not in raw:
            name += " " + ident.group(1)
        # attribute names count (values are text a translator may change), and a quote
        # left open breaks the markup: <a href="%(url)s> or <a hre="...">
        attrs = sorted(a.lower() for a in re.findall(r"\s([\w:-]+)\s*=", raw))
        if attrs:
            name += " " + " ".join(attrs)
        if raw.count('"') % 2 or raw.count("'") % 2 and not re.search(r"=\s*\"[^\"]*'", raw):
            name += " (unbalanced quotes)"
        out.append(f"</{name}>" if raw.startswith("</") else
                   f"<{name}/>" if raw.endswith("/>") else f"<{name}>")
    return out


def _nesting_ok(found: list[str]) -> bool:
    stack = []
    voids = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "source"}
    for t in found:
        if t.endswith("/>"):
            continue
        name = t.strip("</>").split(" ")[0]  # "<a href>" closes with "</a>"
        if t.startswith("</"):
            if not stack or stack[-1] != name:
                return False
            stack.pop()
        elif name not in voids:
            stack.append(name)
    return not stack


def check_tags(e: Entry) -> list[tuple[str, str]]:
    out = []
    for label, src, tgt in _pairs(e):
        s, t = tags(src), tags(tgt)
        if not s and not t:
            continue
        problem = _compare(s, t, ordered=False)
        if not problem and _nesting_ok(s) and not _nesting_ok(t):
            problem = "tags are not closed in order: " + " ".join(t)
        if problem:
            out.append(("tags", f"{label + ': ' if label else ''}{problem}"))
    return out


# --- numbers, URLs ------------------------------------------------------------------------

_SKIP_SPANS = re.compile(r"%(?:\([^)]*\))?(?:\d+\$)?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"
                         r"|\{[^{}]*\}|<[^<>]*>|https?://\S+|[\w.+-]+@[\w-]+\.[\w.-]+")
# 1,000 / 1.000 / 1 000 / 3.5 / 3,5 are one number each; "March 3, 2024" has two.
_NUMBER = re.compile(r"\d{1,3}(?:[.,'\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?")


def numbers(text: str) -> list[str]:
    text = _SKIP_SPANS.sub(" ", text)
    out = []
    for m in _NUMBER.finditer(text):
        raw = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in m.group(0))
        parts = re.split(r"[.,'\u00a0\u202f ]", raw)
        if len(parts) > 1 and len(parts[-1]) != 3:  # "2.5", "2,5", "1 000,50": a fraction
            whole, fraction = "".join(parts[:-1]), parts[-1]
            out.append(f"{whole.lstrip('0') or '0'}.{fraction}")
        else:  # "1,000" = "1.000" = "1 000" (a thousands separator in some locale)
            out.append("".join(parts).lstrip("0") or "0")
    return out


def check_numbers(e: Entry) -> list[tuple[str, str]]:
    src_all = numbers(e.source) + numbers(e.source_plural or "")
    if not src_all:
        return []  # "April" -> "4月": a number where the source has none is a spelling
    out = []
    for label, src, tgt in _pairs(e):
        t = numbers(tgt)
        if e.plurals:
            extra = [x for x in t if x not in src_all]
            problem = f"not in the source {', '.join(extra)}" if extra else None
        else:
            wanted = numbers(src)
            problem = _compare(wanted, t, ordered=False)
            if problem and not Counter(wanted) - Counter(t) and set(t) <= set(wanted):
                problem = None  # "24/7" -> "24 h/24, 7 j/7": the same numbers, repeated
            if problem and list((Counter(wanted) - Counter(t)).elements()) == ["1"] and \
                    not Counter(t) - Counter(wanted):
                problem = None  # "1 hour left" -> "Une heure restante": one, in words
        if problem:
            out.append(("numbers", f"{label + ': ' if label else ''}{problem}"))
    return out


_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)[\w\-.~:/?#\[\]@!$&()*+,;=%]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _hosts(text: str) -> list[str]:
    out = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        host = re.sub(r"^(?:\w+://)?", "", url).split("/")[0].lower()
        out.append(host)
    return out


def check_urls(e: Entry) -> list[tuple[str, str]]:
    out = []
    for label, src, tgt in _pairs(e):
        missing = [h for h in _hosts(src) if h not in _hosts(tgt)]
        emails_t = {x.lower() for x in _EMAIL.findall(tgt)}
        missing += [x for x in _EMAIL.findall(src) if x.lower() not in emails_t]
        if missing:
            out.append(("urls", f"{label + ': ' if label else ''}missing "
                        + ", ".join(missing)))
    return out


# --- whitespace, punctuation, repeated words --------------------------------------------------

def check_whitespace(e: Entry) -> list[tuple[str, str]]:
    out = []
    for label, src, tgt in _pairs(e):
        problems = []
        for side, s_part, t_part in (("start", src[: len(src) - len(src.lstrip())],
                                      tgt[: len(tgt) - len(tgt.lstrip())]),
                                     ("end", src[len(src.rstrip()):], tgt[len(tgt.rstrip()):])):
            if s_part.count("\n") != t_part.count("\n"):
                problems.append(f"newlines at the {side}: {s_part.count(chr(10))} in the "
                                f"source, {t_part.count(chr(10))} in the translation")
            elif bool(s_part) != bool(t_part) and not (
                    side == "end" and s_part and _FULLWIDTH_END.search(tgt.rstrip())):
                problems.append(f"{'a space' if s_part else 'no space'} at the {side} of the "
                                f"source, {'one' if t_part else 'none'} in the translation")
        if problems:
            out.append(("whitespace", f"{label + ': ' if label else ''}" + "; ".join(problems)))
    return out


_FULLWIDTH_END = re.compile(r"[\u3000-\u303f\uff00-\uffef]$")  # "、" takes the space
_END = {".": "stop", "。": "stop", "।": "stop", "۔": "stop", "።": "stop", "?": "question",
        "？": "question", "؟": "question", ";": "question", "!": "exclamation",
        "！": "exclamation", ":": "colon", "：": "colon", "…": "ellipsis", "⋯": "ellipsis"}
_CLOSERS = "\"'”’»)]）」』›"


def end_class(text: str) -> str | None:
    t = text.rstrip().rstrip(_CLOSERS).rstrip()
    if re.fullmatch(r"[^\W\d_]{1,4}\.", t):
        return None  # one abbreviated word ("Jan.", "Mo.", "abr."): not a sentence end
    if t.endswith("...") or t.endswith("…"):
        return "ellipsis"
    return _END.get(t[-1:]) if t else None


def check_end_punctuation(e: Entry) -> list[tuple[str, str]]:
    out = []
    for label, src, tgt in _pairs(e):
        a, b = end_class(src), end_class(tgt)
        if a == b or not is_wordy(src):
            continue
        if a == "question" and src.rstrip().endswith(";"):
            continue  # a Greek question mark or a code fragment
        if b == "question" and tgt.rstrip().endswith(";") and a != "question":
            b = None
        if a == b:
            continue
        if a == "stop" and b is None and _no_sentence_stop(e.tgt_lang, tgt):
            continue  # Thai, and CJK titles without 。
        out.append(("end-punctuation", f"{label + ': ' if label else ''}the source ends with "
                    f"{a or 'no punctuation'}, the translation with {b or 'no punctuation'}"))
    return out


def _no_sentence_stop(lang: str | None, text: str) -> bool:
    return str(lang or "").split("-")[0] in ("th", "lo", "my", "km")


# Doubled words that grammar asks for ("nous nous", "die die", "had had").
_REPEAT_OK = {"fr": {"vous", "nous"}, "de": {"die", "der", "das"}, "nl": {"die", "dat"},
              "en": {"had", "that"}, "it": {"che"}, "es": {"que"}, "pt": {"que"}}
_WORD_REPEAT = re.compile(r"(?<![\w-])(\w{2,})(?:\s+)\1(?![\w-])", re.IGNORECASE)


def check_repeated_word(e: Entry) -> list[tuple[str, str]]:
    ok = _REPEAT_OK.get(str(e.tgt_lang or "").split("-")[0], set())
    out = []
    for label, src, tgt in _pairs(e):
        src_rep = {m.group(1).casefold() for m in _WORD_REPEAT.finditer(src)}
        found = [m.group(1) for m in _WORD_REPEAT.finditer(tgt)
                 if not m.group(1).isdigit() and m.group(1).casefold() not in src_rep
                 and m.group(1).casefold() not in ok]
        if found:
            out.append(("repeated-word", f"{label + ': ' if label else ''}“{found[0]} "
                        f"{found[0]}”"))
    return out


# --- plural forms, untranslated, identical ------------------------------------------------------

def check_plural_forms(e: Entry) -> list[tuple[str, str]]:
    if not e.source_plural or not e.translated:
        return []
    forms = len(e.plurals)
    filled = sum(1 for v in e.plurals.values() if v)
    if e.nplurals is not None and forms != e.nplurals:
        return [("plural-forms", f"{forms} plural form(s); the Plural-Forms header says "
                 f"nplurals={e.nplurals}")]
    if filled < forms:
        empty = [f"msgstr[{k}]" for k, v in sorted(e.plurals.items()) if not v]
        return [("plural-forms", "empty plural form(s): " + ", ".join(empty))]
    return []


def is_wordy(text: str) -> bool:
    from e5desk.core.translations import is_translatable

    return is_translatable(text)


def check_untranslated(e: Entry) -> list[tuple[str, str]]:
    if e.translated or not is_wordy(e.source):
        return []
    return [("untranslated", "no translation")]


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ")[0] if name else ""


def may_stay_as_is(text: str, tgt_lang: str | None = None) -> bool:
    """Names, brands and loanwords stay as they are: short (at most three words), each word
    capitalised or all capitals (Pyrame, PDF, E-mail, GitHub), or only symbols/placeholders."""
    if not is_wordy(text):
        return True
    words = re.findall(r"[^\W\d_][\w’'.-]*", _SKIP_SPANS.sub(" ", text))
    if not words or len(words) > 3 or len(text) > 40:
        return False
    if len(words) == 1 and len(text) <= 20:
        return True  # one word: "page", "description", "email" are the same in many languages
    return all(w[0].isupper() or w.isupper() or any(c.isdigit() for c in w) for w in words)


def check_same_as_source(e: Entry) -> list[tuple[str, str]]:
    if not e.target or e.plurals and len({v for v in e.plurals.values()}) > 1:
        return []
    if e.target.strip() != e.source.strip() or may_stay_as_is(e.source, e.tgt_lang):
        return []
    if e.src_lang and e.tgt_lang and str(e.src_lang).split("-")[0] == \
            str(e.tgt_lang).split("-")[0]:
        return []  # en -> en-GB: identical is usual
    return [("same-as-source", "the translation is the source text")]


RULES: dict[str, Callable[[Entry], list[tuple[str, str]]]] = {
    "placeholders": check_placeholders, "tags": check_tags, "plural-forms": check_plural_forms,
    "numbers": check_numbers, "urls": check_urls, "whitespace": check_whitespace,
    "repeated-word": check_repeated_word, "same-as-source": check_same_as_source,
    "end-punctuation": check_end_punctuation, "untranslated": check_untranslated,
}
PLACEHOLDER_IDS = ("python-format", "c-format", "python-brace-format", "icu-format")


def run_rules(e: Entry, checks: Iterable[str]) -> list[tuple[str, str]]:
    """(check id, reason) for each problem the chosen rule checks find in ``e``."""
    chosen = set(checks)
    out = []
    for name, fn in RULES.items():
        if name == "placeholders":
            if chosen & set(PLACEHOLDER_IDS):
                out += [x for x in fn(e) if x[0] in chosen]
        elif name in chosen:
            out += fn(e)
    return out
