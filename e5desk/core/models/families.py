"""E5 model families and how each turns (role, task, text) into the model's input string.

From the model cards in the reference documents:
- e5 v1/v2 and multilingual-e5 small/base/large: ``"query: " + text`` / ``"passage: " + text``.
  Asymmetric retrieval uses query vs passage; symmetric tasks (similarity, bitext mining,
  paraphrase) and embeddings used as features (clustering) use ``query: `` on both sides.
- multilingual-e5-large-instruct: queries ``f"Instruct: {task}\\nQuery: {text}"``, documents bare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from e5desk.core.errors import E5DeskError

Role = Literal["query", "passage", "raw"]
ROLES: tuple[str, ...] = ("query", "passage", "raw")
# Symmetric tasks (similarity, translation finding, bitext mining, clustering) embed both
# sides in the query role, as the E5 model cards prescribe.
SYMMETRIC_ROLE: Role = "query"

# One-sentence instructions for the instruct model (wording as used in E5's evaluation).
TASK_PRESETS: dict[str, str] = {
    "web_search": "Given a web search query, retrieve relevant passages that answer the query",
    "bitext": "Retrieve parallel sentences.",
    "translation": "Given a sentence, retrieve its translation in another language",
    "similarity": "Retrieve semantically similar text.",
    "clustering": "Identify the topic or theme of the given text",
}
DEFAULT_TASK = "web_search"

MULTILINGUAL = "~100 languages (XLM-RoBERTa vocabulary)"
ENGLISH = "English"


@dataclass(frozen=True)
class ModelFamily:
    key: str
    display: str
    languages: str
    instruct: bool = False
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    licence: str = "MIT"

    def format(
        self, texts: Sequence[str], role: str = "query", task: str | None = None
    ) -> list[str]:
        """The exact model input strings for ``texts`` in ``role``."""
        if role not in ROLES:
            raise E5DeskError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
        if role == "raw":
            return list(texts)
        if self.instruct:
            if role == "passage":
                return list(texts)
            instruction = resolve_task(task)
            return [f"Instruct: {instruction}\nQuery: {t}" for t in texts]
        prefix = self.query_prefix if role == "query" else self.passage_prefix
        return [prefix + t for t in texts]

    def prompt_description(self) -> str:
        if self.instruct:
            return "queries: 'Instruct: {task}\\nQuery: {text}'; passages: bare text"
        return f"'{self.query_prefix}' / '{self.passage_prefix}' prefixes"


def resolve_task(task: str | None) -> str:
    """A preset name or a free one-sentence instruction; None means web search retrieval."""
    if task is None or not task.strip():
        return TASK_PRESETS[DEFAULT_TASK]
    return TASK_PRESETS.get(task.strip(), task.strip())


FAMILIES: dict[str, ModelFamily] = {
    f.key: f
    for f in [
        ModelFamily("multilingual-e5-small", "multilingual-e5-small", MULTILINGUAL),
        ModelFamily("multilingual-e5-base", "multilingual-e5-base", MULTILINGUAL),
        ModelFamily("multilingual-e5-large", "multilingual-e5-large", MULTILINGUAL),
        ModelFamily(
            "multilingual-e5-large-instruct", "multilingual-e5-large-instruct", MULTILINGUAL,
            instruct=True,
        ),
        ModelFamily("e5-small", "e5-small (v1)", ENGLISH),
        ModelFamily("e5-base", "e5-base (v1)", ENGLISH),
        ModelFamily("e5-large", "e5-large (v1)", ENGLISH),
        ModelFamily("e5-small-v2", "e5-small-v2", ENGLISH),
        ModelFamily("e5-base-v2", "e5-base-v2", ENGLISH),
        ModelFamily("e5-large-v2", "e5-large-v2", ENGLISH),
        ModelFamily("e5", "E5-compatible (family not recognised)", "unknown"),
    ]
}

# Longest names first so "multilingual-e5-large-instruct" wins over "multilingual-e5-large".
_BY_NAME = sorted((k for k in FAMILIES if k != "e5"), key=len, reverse=True)


def family_from_name(name: str) -> ModelFamily | None:
    low = name.lower().replace("_", "-")
    for key in _BY_NAME:
        if key in low:
            # "e5-large" also matches inside "multilingual-e5-large": the sort handles it,
            # but an English v1 name must not swallow a v2 one.
            if not key.startswith("multilingual") and "multilingual" in low:
                continue
            return FAMILIES[key]
    return None


def family_from_shape(config: dict, st_prompts: dict | None = None) -> ModelFamily | None:
    """Guess from the architecture when no name says it (e.g. a renamed local folder)."""
    model_type = config.get("model_type")
    hidden = config.get("hidden_size")
    vocab = config.get("vocab_size", 0)
    prompts = " ".join((st_prompts or {}).values())
    if vocab >= 250000:
        if model_type == "bert" and hidden == 384:
            return FAMILIES["multilingual-e5-small"]
        if model_type == "xlm-roberta" and hidden == 768:
            return FAMILIES["multilingual-e5-base"]
        if model_type == "xlm-roberta" and hidden == 1024:
            instruct = "Instruct:" in prompts
            key = "multilingual-e5-large-instruct" if instruct else "multilingual-e5-large"
            return FAMILIES[key]
    return None


def get_family(key: str) -> ModelFamily:
    try:
        return FAMILIES[key]
    except KeyError:
        known = ", ".join(k for k in FAMILIES)
        raise E5DeskError(f"unknown model family {key!r}: expected one of {known}") from None
