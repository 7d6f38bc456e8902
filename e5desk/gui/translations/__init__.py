"""Translations tab: how is this said elsewhere (learner view), which translations look
wrong (suspects: rule checks, consistency and meaning), mining pairs between two loaded
sets, and retrieval quality figures (a table and a bar chart of one metric per language
pair, or per prefix rule with Prefix A/B). Symmetric tasks: the symmetric role
(SYMMETRIC_ROLE, the query form) on both sides.

    state.py       the rules without Qt: language choices, each table's rows, bars, marked copy
    learner.py     LearnerTab: "How is it said?"
    suspects.py    SuspectsTab: rule/consistency/meaning findings, kind filter, marked copy
    mining.py      MiningTab: pairs between two loaded sets
    evaluation.py  EvaluationTab: the evaluation table and bar chart
    view.py        TranslationsView: the four in one tab; answers for their controls by name
                   (``view.eval_model``, ``view.check()``, ...) as the window and tests use them
"""

from __future__ import annotations

__all__ = ["TranslationsView"]


def __getattr__(name: str):
    # Lazily, so that the Qt-free parts (state.py) import without Qt.
    if name == "TranslationsView":
        from e5desk.gui.translations.view import TranslationsView

        return TranslationsView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
