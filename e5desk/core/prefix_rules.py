"""Prefix rules: the role each side of a comparison is embedded in. One vocabulary for
scoring (`e5desk score --rule`, the Scores tab, the map's search) and evaluation
(`e5desk eval --prefixes`, the Evaluation tab's Prefix A/B).

From the E5 model cards: asymmetric retrieval embeds queries in the query role and passages
in the passage role; symmetric tasks (similarity, translation finding, bitext mining) and
clustering use the query role on both sides; "none" feeds raw text, for comparison only.
"""

from __future__ import annotations

from dataclasses import dataclass

from e5desk.core.errors import E5DeskError
from e5desk.core.models.families import SYMMETRIC_ROLE


@dataclass(frozen=True)
class PrefixRule:
    name: str
    query_role: str
    passage_role: str
    label: str  # one line for pickers
    use: str  # what the model cards prescribe it for

    @property
    def sides(self) -> str:
        """The two roles as 'query/passage' (the names evaluation used to show)."""
        if self.query_role == self.passage_role == "raw":
            return "no prefix"
        return f"{self.query_role}/{self.passage_role}"


PREFIX_RULES: dict[str, PrefixRule] = {r.name: r for r in (
    PrefixRule("retrieval", "query", "passage", "Retrieval: 'query: ' vs 'passage: '",
               "asymmetric retrieval, short queries against longer passages"),
    PrefixRule("symmetric", SYMMETRIC_ROLE, SYMMETRIC_ROLE,
               "Symmetric: 'query: ' on both sides",
               "similarity, translation finding, bitext mining and clustering"),
    PrefixRule("none", "raw", "raw", "No prefix (raw text)",
               "comparison only (the model cards always use a prefix)"),
)}
# Names evaluation used before it shared this vocabulary; still accepted.
RULE_ALIASES = {"query/passage": "retrieval", "query/query": "symmetric", "raw": "none"}
# Tasks and the rule the reference documents prescribe for them.
TASK_RULES = {"retrieval": "retrieval", "similarity": "symmetric", "translation": "symmetric",
              "bitext": "symmetric", "clustering": "symmetric"}


def prefix_rule(name: str) -> PrefixRule:
    """The rule called ``name`` (or one of its older names)."""
    rule = PREFIX_RULES.get(RULE_ALIASES.get(name, name))
    if rule is None:
        raise E5DeskError(f"unknown prefix rule {name!r}: expected one of "
                          f"{', '.join(PREFIX_RULES)} (or {', '.join(RULE_ALIASES)})")
    return rule


def roles_for(rule: str) -> tuple[str, str]:
    """(role for queries, role for passages) of the rule called ``rule``."""
    r = prefix_rule(rule)
    return r.query_role, r.passage_role


def rules_help() -> str:
    """The rules in one line for option help and tooltips."""
    return "; ".join(f"{r.name} = {r.sides}, for {r.use}" for r in PREFIX_RULES.values())
