"""The Scores tab without Qt: each control's value and choices, the saved view settings,
the texts the tab shows (model input hint, pair score, best match) and the ranked table's
columns. The scoring itself is ``workflows.score``; the widget (gui/workbench.py) wires."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from e5desk.core.calibration import Calibration
from e5desk.core.scoring import PREFIX_RULES, roles_for
from e5desk.workflows.score import DEFAULT_RULE, ScoreResult, ScoreSettings

PASSAGE_SOURCES = {"all": "All loaded sentences", "selection": "Selected sentences",
                   "typed": "Passages typed below"}
VS_UNRELATED = "vs unrelated"  # issue 25: the score's percentile among unrelated pairs
NO_CALIBRATION = ("Where the score stands among unrelated pairs of the loaded sentences: "
                  "load a sentence set (and score against it once) to see it.")
TOP_RANGE = (1, 1000)
NO_PAIR = "Relevancy score: type a query and a passage"


def elide(text: str, n: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def query_ticks(queries: list[str], most: int = 30) -> list[tuple[float, str]]:
    """Heatmap rows named by their (elided) query, at most ``most`` names so they never
    overlap; every row's full text is in the hover readout."""
    step = max(1, -(-len(queries) // most))
    return [(i + 0.5, elide(q)) for i, q in enumerate(queries) if i % step == 0]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@dataclass
class ScoresState:
    """The tab's controls; ``to_dict``/``from_dict`` are the project's saved view."""

    queries: str = ""
    rule: str = DEFAULT_RULE
    task: str = ""  # the task box's text (a preset "key: text" or the user's own)
    source: str = "all"
    k: int = 20
    typed: str = ""
    pair: tuple[str, str] = ("", "")

    def to_dict(self) -> dict:
        return {"queries": self.queries, "rule": self.rule, "task": self.task,
                "source": self.source, "k": self.k, "typed": self.typed,
                "pair": list(self.pair)}

    def updated(self, saved: dict) -> ScoresState:
        """This state with a saved view applied: unknown rules, sources and an empty task
        keep the current choice; texts not saved are cleared."""
        pair = saved.get("pair") or ["", ""]
        return ScoresState(
            queries=saved.get("queries", ""),
            rule=saved.get("rule") if saved.get("rule") in PREFIX_RULES else self.rule,
            task=saved.get("task") or self.task,
            source=saved.get("source") if saved.get("source") in PASSAGE_SOURCES
            else self.source,
            k=min(max(int(saved.get("k", self.k)), TOP_RANGE[0]), TOP_RANGE[1]),
            typed=saved.get("typed", ""), pair=(pair[0], pair[1]))

    def query_list(self) -> list[str]:
        return lines(self.queries)

    def typed_passages(self) -> list[str]:
        return lines(self.typed)

    def settings(self, task: str | None) -> ScoreSettings:
        return ScoreSettings(self.query_list(), self.rule, task, self.k)


def task_text(text: str, preset: str | None, instruct: bool) -> str | None:
    """The instruction sent to an instruct model: a preset's sentence while its "key: text"
    entry is shown, else what the user typed; None for other models."""
    if not instruct:
        return None
    return preset if preset and text.endswith(preset) else text


def prefix_hint(format: Callable[[list[str], str, str | None], list[str]], rule: str,
                task: str | None) -> str:
    """What the model reads for a query and a passage under ``rule`` (``format`` as
    ``Encoder.format``)."""
    q_role, p_role = roles_for(rule)
    q = format(["…"], q_role, task)[0].replace("\n", "\\n")
    p = format(["…"], p_role, task)[0].replace("\n", "\\n")
    return f"Model input: queries “{q}”, passages “{p}”"


def pair_text(score: float, calibration: Calibration | None, rule: str) -> str:
    where = (f" — {calibration.phrase(score)}"
             if calibration is not None and calibration.rule == rule else "")
    return f"Relevancy score: {score:.2f}  (cosine {score / 100:.4f})" + where


def ranked_table(result: ScoreResult, texts: Sequence[str],
                 meta: Sequence[tuple[str, str]]) -> tuple[list, list, list]:
    """The ranked results' columns: (names, values, formats); ``meta`` = (lang, set) per
    passage."""
    rows = result.rows()
    return (["query", "rank", "score", "cosine", "lang", "set", "passage", VS_UNRELATED],
            [[r.query for r in rows], np.array([r.rank for r in rows]),
             np.array([r.score for r in rows]), np.array([r.score / 100 for r in rows]),
             [meta[r.passage][0] for r in rows], [meta[r.passage][1] for r in rows],
             [texts[r.passage] for r in rows], np.array([r.vs_unrelated / 100 for r in rows])],
            [None, "d", ".2f", ".4f", None, None, None, ".1%"])


def best_match(result: ScoreResult, texts: Sequence[str]) -> str | None:
    rows = result.rows()
    if not rows:
        return None
    best = rows[0]
    return f"Best match for “{result.ranking.queries[0]}”: {best.score:.2f} — {texts[best.passage]}"
