"""The Python API: e5desk from a notebook or a script.

Every function here is a thin front over the same core code that the CLI, the window and
``e5desk serve`` run (``e5desk.core``): the same model discovery, prefixes, embedding cache,
readers and maths. Nothing is loaded at import time; heavy modules load on first use.

    >>> import e5desk
    >>> model = e5desk.load_model()                     # the embedded multilingual-e5-small
    >>> v = model.encode(["Where is the station?"], role="query")   # (1, 384) float32
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any

from e5desk.core.options import DEFAULT_ENGINE

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

    from e5desk.core.clusters import Cluster
    from e5desk.core.data.sentence_set import SentenceSet
    from e5desk.core.encoder import Encoder, EncodeResult
    from e5desk.core.jobs import CancelCheck, Progress
    from e5desk.core.qa import QAResult
    from e5desk.core.scoring import Ranking
    from e5desk.core.similarity import MinedPair

__all__ = ["Model", "SentenceMap", "evaluate", "load_model", "map", "mine", "rank",
           "read_sets", "score"]
__all__ += ["align"]  # word alignment (issue 25)
__all__ += ["explain"]  # score explanations (issue 25)
__all__ += ["check"]  # translation QA (issue 26)

Texts = Sequence[str]


class Model:
    """A loaded E5 model: ``encode`` texts as queries or passages, ``describe`` it.

    Wraps :class:`e5desk.core.encoder.Encoder` (available as ``.encoder``); the model
    family decides how a role becomes the model's input (``"query: "``/``"passage: "``
    prefixes, or the instruct format). Vectors are float32 and L2-normalised, so a dot
    product is the cosine; E5 scores are usually shown as cosine x 100.
    """

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    @property
    def name(self) -> str:
        """The model's name, e.g. ``multilingual-e5-small (embedded)``."""
        return self.encoder.source.name

    @property
    def dim(self) -> int:
        """Vector dimensions (384 for multilingual-e5-small)."""
        return self.encoder.dim

    @property
    def max_tokens(self) -> int:
        """Tokens the model sees per text (special tokens included); longer texts are
        truncated (reported) or averaged over windows (``long_text="windows"``)."""
        return self.encoder.max_tokens

    @property
    def model_id(self) -> str:
        """Identifies the vectors this model makes (cache key, project identity)."""
        return self.encoder.model_id

    def format(self, texts: Texts, role: str = "query", task: str | None = None) -> list[str]:
        """The exact strings the model sees for ``texts`` in ``role``."""
        return self.encoder.format(list(texts), role, task)

    def encode(self, texts: Texts | str, role: str = "query", task: str | None = None, *,
               batch_size: int | None = None, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> np.ndarray:
        """Embed ``texts`` -> float32 array (n, dim), rows L2-normalised, in input order.

        ``role``: ``"query"`` (questions, and both sides of symmetric tasks: similarity,
        translations, clustering), ``"passage"`` (documents to retrieve) or ``"raw"`` (no
        prefix: the text is used as given). ``task``: the instruction for instruct models
        (a preset name such as ``"web_search"`` or one sentence). A single string gives a
        1-D vector. ``progress(done, total)`` and ``cancelled() -> bool`` as in every job.
        """
        from e5desk.workflows.embed import EmbedSettings, embed

        if isinstance(texts, str):
            return self.encode([texts], role, task, batch_size=batch_size)[0]
        return embed(self.encoder, texts, EmbedSettings(role, task, batch_size),
                     progress=progress, cancelled=cancelled)

    def encode_detailed(self, texts: Texts, role: str = "query", task: str | None = None, *,
                        progress: Progress | None = None,
                        cancelled: CancelCheck | None = None) -> EncodeResult:
        """Like :meth:`encode`, also giving token counts per text and which were truncated."""
        return self.encoder.encode_detailed(list(texts), role=role, task=task,
                                            progress=progress, cancelled=cancelled)

    def token_states(self, texts: Texts, layers: Sequence[int] = (8,), role: str = "raw",
                     task: str | None = None):
        """Per text, the hidden states of ``layers`` for its subword pieces, with the pieces
        and their character offsets (:class:`e5desk.core.encoder.TokenStates`)."""
        return self.encoder.token_states(list(texts), layers=layers, role=role, task=task)

    def describe(self) -> dict[str, str]:
        """The model card shown in the window (name, family, languages, dimensions,
        prompt format, licence, weights, source) plus where and how it runs."""
        card = dict(self.encoder.source.card())
        card["runs on"] = self.encoder.describe()
        return card

    def __repr__(self) -> str:
        return f"<e5desk.Model {self.encoder.describe()}, {self.dim} dimensions>"


def load_model(model: str | PathLike | None = None, *, family: str | None = None,
               device: str = "auto", precision: str = "auto", threads: int | None = None,
               long_text: str = "truncate", batch_size: int | None = None,
               cache: bool = True, progress: Progress | None = None,
               engine: str = DEFAULT_ENGINE) -> Model:
    """Load a model as ``e5desk --model`` names it, offline.

    ``model``: None or ``"embedded"`` (the embedded multilingual-e5-small, converted on
    first use), a model folder, or a name in the local Hugging Face cache (never
    downloaded). ``precision``: ``auto`` (the default, as in the CLI and the window:
    bfloat16 on CPUs with native bf16, float16 on GPUs, float32 elsewhere, each only where
    its quality gate held), ``exact`` (float32), ``fast`` (the reduced format without the
    gate) or ``int8`` (CPU). ``long_text``: ``truncate`` like the model
    card, or ``windows`` (average 510-token windows). ``cache``: reuse vectors computed
    before for the same model and input (the embedding cache in the user cache folder).
    ``engine``: ``auto`` (the default: on the CPU the model exported to ONNX and run by
    OpenVINO or ONNX Runtime for single texts and small batches, torch for big batches
    where it measured faster), ``torch``, ``onnxruntime`` or ``openvino`` (see
    ``e5desk.core.engines``; the runtimes are ``pip install openvino onnxruntime``).
    Errors are :class:`e5desk.core.errors.E5DeskError` with a message for the user.
    """
    from e5desk.core.encoder import Encoder

    return Model(Encoder.load(model, family=family, progress=progress, device=device,
                              precision=precision, threads=threads, long_text=long_text,
                              batch_size=batch_size, cache=cache, engine=engine))


def read_sets(paths: str | PathLike | Sequence[str | PathLike], *, join: bool = True,
              format: str | None = None,
              vectors: str | PathLike | Sequence[str | PathLike] | None = None
              ) -> SentenceSet:
    """Read sentence sets (text, CSV/TSV, JSONL, TMX, XLIFF, PO, parallel files, Tatoeba)
    and combine them into one :class:`SentenceSet` (columns ``text``, ``lang``, ``group``,
    ``role``, ``line``).

    ``join``: translations in different files are joined by their source text (PO msgctxt +
    msgid, TMX/XLIFF source segment, meaning ids), as ``--join`` on the CLI. ``format``:
    force a reader (default: detected per file). Rows a reader had to skip are reported as
    warnings (``warnings.warn``), the way the CLI prints them.

    ``vectors``: vectors computed elsewhere, one file per path (``.npy`` N x D float32 or
    float16, or Parquet with a vector column; row i = sentence i), as ``--vectors``: checked
    (row count, finite, no zero rows) and used instead of embedding those rows by
    ``map``/``score``/``rank``/``evaluate`` (which then need no ``model``; text they do not
    cover needs a model of the same dimension).
    """
    from e5desk.core.data import concat_sets, load_sentence_set
    from e5desk.core.vectors_import import attach_vectors, check_pairing

    if isinstance(paths, str | PathLike):
        paths = [paths]
    if isinstance(vectors, str | PathLike):
        vectors = [vectors]
    check_pairing(list(paths), vectors)
    results = [load_sentence_set(p, format=format) for p in paths]
    for r, v in zip(results, vectors or [], strict=False):
        attach_vectors(r, v)
    for r in results:
        for problem in r.problems():
            warnings.warn(f"{r.path}: {problem}", stacklevel=2)
    combined = concat_sets([r.sentence_set for r in results], join=join)
    # `e5desk batch` output folders: their stored vectors, used by map/evaluate/score/rank
    # where this model made them (the provenance is checked; other rows are embedded).
    combined.stored = [r.stored for r in results if getattr(r, "stored", None) is not None]
    return combined


def _encode(model: Model | None, sentences):
    """``model.encode``, or one that takes stored batch vectors of ``sentences`` first."""
    stored = getattr(sentences, "stored", None)
    if not stored:
        if model is None:
            from e5desk.core.errors import E5DeskError

            raise E5DeskError("no model given, and no vectors for these sentences "
                              "(read_sets(..., vectors=...))")
        return model.encode
    from e5desk.core.batch import StoredEncoder

    return StoredEncoder(model.encoder if model is not None else _no_model(), stored,
                         warn=lambda m: warnings.warn(m, stacklevel=4)).encode


def _no_model():
    """Stands for the model where every vector was given: says so if one is needed."""
    from e5desk.core.errors import E5DeskError
    from e5desk.core.vectors_import import LazyEncoder

    def refuse():
        raise E5DeskError("these rows are not covered by the vectors given: pass a model "
                          "(load_model) with the vectors' number of dimensions")

    return LazyEncoder(refuse)


def _texts(sentences: Texts | SentenceSet) -> list[str]:
    if isinstance(sentences, str):
        return [sentences]
    text = getattr(sentences, "text", None)  # a SentenceSet
    return [str(t) for t in (sentences if text is None else text)]


def score(model: Model, queries: Texts | str, passages: Texts | SentenceSet, *,
          rule: str = "retrieval", task: str | None = None) -> np.ndarray:
    """Every query against every passage: float32 (n_queries, n_passages) of cosine x 100.

    ``rule`` (as ``e5desk score --rule``): ``retrieval`` embeds queries with ``query: `` and
    passages with ``passage: ``; ``symmetric`` uses ``query: `` on both sides (similarity,
    translations); ``none`` feeds raw text. E5 scores sit in a narrow high band (about 70 to
    100): compare ranks, not absolute values.
    """
    from e5desk.workflows.score import ScoreSettings, score_matrix

    return score_matrix(model.encoder, ScoreSettings(_texts(queries), rule, task),
                        _texts(passages), encode=_encode(model, passages))


def rank(model: Model, queries: Texts | str, passages: Texts | SentenceSet, *, top: int = 10,
         rule: str = "retrieval", task: str | None = None) -> Ranking:
    """The best ``top`` passages per query, as ``e5desk score`` ranks them: a
    :class:`e5desk.core.scoring.Ranking` with ``indices`` and ``scores`` (n_queries, top),
    and ``rows()`` -> (query index, rank, passage index, score)."""
    from e5desk.workflows.score import ScoreSettings, score_passages

    texts = _texts(passages)
    return score_passages(model.encoder, ScoreSettings(_texts(queries), rule, task, top), texts,
                          encode=_encode(model, passages)).ranking


@dataclass
class SentenceMap:
    """A 2-D map of sentences: ``coords`` (n, 2), HDBSCAN ``labels`` (n,; -1 = noise),
    ``clusters`` (id, size, keyword label, language mix), ``summary`` (cluster count,
    language mixing, cross-lingual P@1 when the rows have translation groups) and the
    rows' texts and languages."""

    coords: np.ndarray
    labels: np.ndarray
    clusters: list[Cluster]
    summary: list[str]
    texts: list[str]
    langs: list[Any] = field(default_factory=list)


def map(model: Model | None, sentences: Texts | SentenceSet, *, method: str | None = None,
        center_languages: bool | None = None, neighbors: int | None = None,
        min_dist: float | None = None, seed: int | None = None,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None) -> SentenceMap:
    """Place sentences by meaning with the pipeline of ``e5desk map`` and the Map tab
    (``e5desk.core.mapping``): embed in query form (as for clustering), project to 2-D
    (``umap``, ``pca`` or ``tsne``), cluster with HDBSCAN, label clusters by keywords.
    ``center_languages`` subtracts each language's mean vector first ("separate meaning
    from language"); default: on when every row has a language (e.g. a SentenceSet).
    ``method``, ``neighbors``, ``min_dist``, ``seed``: None for the defaults of ``e5desk map``
    and the Map tab (umap, 15, 0.1, 42: ``e5desk.workflows.map.MapSettings``)."""
    from e5desk.workflows.map import MapSettings, map_sentences

    texts = _texts(sentences)
    langs = list(getattr(sentences, "lang", [None] * len(texts)))
    groups = list(getattr(sentences, "group", [None] * len(texts)))
    encode = _encode(model, sentences)
    given = {"method": method, "neighbors": neighbors, "min_dist": min_dist, "seed": seed}
    settings = MapSettings(center_languages=center_languages,
                           **{k: v for k, v in given.items() if v is not None})
    result = map_sentences(lambda t, role, progress=None, cancelled=None:
                           encode(t, role, cancelled=cancelled), texts, langs, groups,
                           settings,
                           progress=progress, cancelled=cancelled)
    a = result.analysis
    return SentenceMap(result.coords, a.labels, a.clusters, a.summary(), texts, langs)


def mine(model: Model, src: Texts | SentenceSet, tgt: Texts | SentenceSet, *, k: int = 4,
         mode: str = "intersect", threshold: float | None = None) -> list[MinedPair]:
    """Bitext mining, as ``e5desk mine``: translation pairs between two lists by ratio
    margin over ``k`` nearest neighbours both ways, ``query: `` form on both sides.

    ``mode``: ``intersect`` (pairs both directions agree on), ``forward`` or ``backward``.
    ``threshold``: minimum margin (default: the CLI's calibrated 1.02; ``0`` keeps
    every pair). Returns :class:`MinedPair` (``src``, ``tgt`` row indices,
    ``margin``, ``cosine``), best margin first. Every row is paired: select one language
    per side first (``SentenceSet.take``) when the sets hold several.
    """
    from e5desk.core.models.families import SYMMETRIC_ROLE
    from e5desk.core.similarity import DEFAULT_MARGIN_THRESHOLD, DEFAULT_ROUNDS
    from e5desk.core.similarity import mine as mine_vectors

    a, b = _texts(src), _texts(tgt)
    both = model.encode([*a, *b], SYMMETRIC_ROLE)
    return mine_vectors(both[: len(a)], both[len(a):], k=k, mode=mode,
                        threshold=DEFAULT_MARGIN_THRESHOLD if threshold is None else threshold,
                        texts=(a, b), rounds=DEFAULT_ROUNDS)


def evaluate(model: Model, sentences: SentenceSet, *, prefixes: bool = False,
             progress: Progress | None = None) -> dict[str, dict[str, float]]:
    """Retrieval metrics (MRR@10, Recall@1/5/10, nDCG@10, P@1), as ``e5desk eval``.

    ``sentences``: ``read_sets("train.jsonl")`` (with passages.jsonl beside it) or
    parallel sets with translation groups (each language's sentences as queries, the
    other's as passages; metrics averaged over language pairs). Returns the table
    ``e5desk eval`` prints: ``{row: metrics}`` with one row per prefix rule
    (``retrieval``, ``symmetric``, ``none``: the names of ``score``'s ``rule``; only the
    data's own rule unless ``prefixes=True``),
    and for parallel sets ``all pairs (RULE)`` rows followed by one ``A->B`` row per
    language pair (e5desk.workflows.evaluate, shared with the CLI and the window).
    """
    from e5desk.workflows.evaluate import evaluate as evaluate_workflow

    return evaluate_workflow(_encode(model, sentences), sentences, prefixes=prefixes,
                             progress=progress).rows


def align(model: Model, pairs: Sequence[tuple[str | Sequence[str], str | Sequence[str]]], *,
          method: str | None = None, layer: int | None = None,
          progress: Progress | None = None, cancelled: CancelCheck | None = None) -> list:
    """Word alignment of (source, target) pairs, as ``e5desk align``: a list of
    :class:`e5desk.core.align.WordAlignment` (``src_words``, ``tgt_words``, ``links`` as
    (i, j, score 0..1), ``unaligned_src``/``unaligned_tgt``, ``.pharaoh()``).

    A side given as a list of words is kept exactly as given; a string is segmented
    (spaces and punctuation; Han one character a word, kana by runs, Thai and similar
    scripts by the model's pieces). ``method``/``layer``: None for the measured defaults.
    """
    from e5desk.workflows.pair import AlignSettings
    from e5desk.workflows.pair import align as align_workflow

    return align_workflow(model.encoder, pairs, AlignSettings(method, layer),
                          progress=progress, cancelled=cancelled).pairs


def check(paths: str | PathLike | Sequence[str | PathLike], *, checks: str = "all",
          model: Model | None = None, src_lang: str | None = None,
          tgt_lang: str | None = None, format: str | None = None,
          all_pairs: bool = False) -> QAResult:
    """The translation QA pass, as ``e5desk check``: rule checks (placeholders by the
    catalogue's flags, tags, numbers, URLs, whitespace, end punctuation, plural forms,
    untranslated, repeated words), doubtful meanings and consistency, on PO catalogues,
    XLIFF, TMX or other parallel sets.

    ``checks``: as ``--checks`` (``"all"``, ``"rules"`` for no model, kinds, ids, ``-id``).
    ``model``: for the meaning and similar-source checks (default: the embedded model,
    loaded when those checks are chosen). Returns a :class:`e5desk.core.qa.QAResult`:
    ``findings`` (each with ``kind``, ``check``, ``severity``, ``entry``, ``reason`` and
    ``row()``), errors first; ``e5desk.core.qa.write_report``/``write_html`` write them and
    ``e5desk.core.qa.mark_copies`` writes catalogues with the flagged entries marked."""
    from e5desk.core.models.families import SYMMETRIC_ROLE
    from e5desk.core.qa import pick_checks, read_entries, run_checks
    from e5desk.core.qa.rules import MODEL_CHECKS

    if isinstance(paths, str | PathLike):
        paths = [paths]
    chosen = pick_checks(checks)
    entries = read_entries(list(paths), format, src_lang)
    encode = None
    if any(c in MODEL_CHECKS for c in chosen):
        model = model or load_model()

        def encode(texts: list[str]) -> np.ndarray:
            return model.encode(texts, SYMMETRIC_ROLE)

    result = run_checks(entries, chosen, encode, src_lang, tgt_lang, all_pairs)
    if encode is not None:  # each doubtful pair's missing/added words (word alignment)
        from e5desk.core.qa.words import add_unaligned_words

        note = add_unaligned_words(model.encoder, result.findings)
        if note:
            result.notes.append(note)
    return result


def explain(model: Model, query: str, passage: str, *, rule: str = "retrieval",
            task: str | None = None, normalise: bool = False):
    """Why this score, as ``e5desk explain``: a
    :class:`e5desk.core.explain.ScoreExplanation` with the score (cosine x 100) and each
    word's share of it (``query_words``/``query_shares``, ``passage_words``/
    ``passage_shares``): the score minus the score with that word deleted, + pushes it up.
    Chinese and Japanese count one character as a word. ``normalise``: rescale each side's
    shares to add up to the score minus the score with that side empty."""
    from e5desk.workflows.pair import ExplainSettings
    from e5desk.workflows.pair import explain as explain_workflow

    return explain_workflow(model.encoder, query, passage,
                            ExplainSettings(rule, task, normalise))
