"""The pair view (issue 25): the Qt-free state (hover -> partners, words without a partner,
share colours, right-to-left flow, requests from table rows), the widget driven with
pytest-qt (hover a word: its partner lights up, the tooltip gives the link score), and the
window opening it from the Scores tab's pair and the suspect table on the real model."""

from __future__ import annotations

import pytest

from e5desk.core.align import WordAlignment
from e5desk.core.explain import ScoreExplanation
from e5desk.gui.pair.state import (
    COOL,
    NEUTRAL,
    UNALIGNED_COLOUR,
    WARM,
    PairRequest,
    PairResult,
    PairState,
    flow,
    learner_request,
    rows_request,
    share_colour,
    suspect_request,
    text_direction,
)

SRC = ["I", "would", "like", "coffee", "with", "milk", "."]
TGT = ["אני", "רוצה", "קפה", "."]
LINKS = [(0, 0, 0.96), (2, 1, 0.61), (1, 1, 0.31), (3, 2, 0.73), (6, 3, 0.95)]


def _result(score: float = 90.0) -> PairResult:
    alignment = WordAlignment(SRC, TGT, LINKS, unaligned_src=[4, 5], unaligned_tgt=[])
    explanation = ScoreExplanation(SRC, TGT, [0.5, 0.1, 1.0, 4.0, -0.2, 2.0, 0.0],
                                   [1.0, 0.8, 3.5, -1.5], score, "symmetric", "occlusion")
    return PairResult(alignment, explanation, score, "higher than 99 % of unrelated pairs")


def _state() -> PairState:
    state = PairState()
    state.start(PairRequest(" ".join(SRC), " ".join(TGT), left_lang="en", right_lang="he"))
    state.finish(_result())
    return state


# -- state, without Qt --------------------------------------------------------------------
def test_hover_lights_up_the_partners_best_link_first():
    state = _state()
    assert state.partners(1, 1) == [(2, 0.61), (1, 0.31)]  # רוצה <- like, would
    state.hover(1, 1)
    assert state.lit(1) == {1} and state.lit(0) == {1, 2}
    state.hover(0, 3)
    assert state.lit(1) == {2} and state.lit(0) == {3}
    assert "link score 0.73" in state.tooltip(0, 3) and "קפה" in state.tooltip(0, 3)
    state.hover(None)
    assert state.lit(0) == set() and state.lit(1) == set()
    # linked words share a colour; a word without a partner is grey
    assert state.colour(0, 1) == state.colour(0, 2) == state.colour(1, 1)
    assert state.colour(0, 0) != state.colour(0, 3)
    assert state.colour(0, 5) == UNALIGNED_COLOUR


def test_words_without_partner_are_marked_as_missing_or_added():
    state = _state()
    assert state.unaligned(0, 4) and state.unaligned(0, 5)
    assert state.marked(0, 5) and not state.marked(0, 4)  # "with" is a function word
    assert not state.marked(0, 3)
    assert state.summary() == "Missing in translation: milk"
    assert "missing in translation" in state.tooltip(0, 5)
    state.result.alignment.unaligned_tgt = [2]
    assert state.summary() == "Missing in translation: milk  ·  Added in translation: קפה"
    query = PairState()
    query.start(PairRequest("a", "b", "retrieval", "query"))
    query.finish(_result())
    assert query.summary().startswith("No partner in the passage: milk")
    assert query.side_label(0) == "Query" and _state().side_label(1) == "Translation (he)"


def test_share_colours_warm_up_cool_down_and_tooltips_give_the_share():
    assert share_colour(0.0, 4.0) == NEUTRAL and share_colour(1.0, 0.0) == NEUTRAL
    up, down = share_colour(4.0, 4.0), share_colour(-4.0, 4.0)
    assert up[0] > up[2] and down[2] > down[0]  # warm is red-ish, cool blue-ish
    assert abs(up[0] - WARM[0]) < 40 and abs(down[2] - COOL[2]) < 40
    assert sum(share_colour(1.0, 4.0)) > sum(up)  # a smaller share is paler
    state = _state()
    state.set_mode("shares")
    assert state.words(1) == TGT and state.partners(0, 3) == []
    assert state.colour(0, 3) == share_colour(4.0, 4.0)  # the largest share sets the scale
    assert state.colour(1, 3)[2] > state.colour(1, 3)[0]
    tip = state.tooltip(0, 3)
    assert "+4.00" in tip and "pushes the score up" in tip and "86.00" in tip
    assert "pulls the score down" in state.tooltip(1, 3)
    assert "Warm" in state.legend()
    with pytest.raises(ValueError):
        state.set_mode("nope")


def test_headline_busy_error_and_band():
    state = PairState()
    assert "Why?" in state.headline()
    state.start(PairRequest("a", "b"))
    assert "Aligning" in state.headline()
    state.fail("the model is still loading")
    assert "the model is still loading" in state.headline()
    state.start(PairRequest("a", "b"))
    state.finish(_result(87.5))
    assert state.headline().startswith("Score 87.50 (cosine 0.8750")
    assert "higher than 99 % of unrelated pairs" in state.headline()


def test_flow_wraps_and_lays_right_to_left_text_from_the_right():
    spots, height = flow([40, 40, 40], 100, 20, gap=5, line_gap=5)
    assert spots == [(0, 0), (45, 0), (0, 25)] and height == 45
    rtl, _ = flow([40, 40, 40], 100, 20, gap=5, line_gap=5, rtl=True)
    assert rtl == [(60, 0), (15, 0), (60, 25)]
    assert flow([], 100, 20) == ([], 0.0)
    assert flow([150], 100, 20)[0] == [(0, 0)]  # too wide: a line of its own
    assert text_direction("أين أقرب محطة قطار؟") == "rtl"
    assert text_direction("«אני רוצה»") == "rtl" and text_direction("猫は") == "ltr"


def test_requests_from_table_rows():
    headers = ["doubt", "group", "source (en)", "translation (de)", "score", "reason"]
    columns = [[1.0], ["g1"], ["Good morning"], ["Guten Abend"], [80.0], ["low"]]
    r = suspect_request(headers, columns, 0)
    assert (r.left, r.right, r.left_lang, r.right_lang, r.rule, r.kind) == (
        "Good morning", "Guten Abend", "en", "de", "symmetric", "translation")
    assert suspect_request(headers, columns, 3) is None and suspect_request([], [], 0) is None
    headers = ["lang", "rank", "score", "sentence", "group", "match"]
    columns = [["ja", "ja"], [None, 1], [float("nan"), 88.0], ["no close translation", "猫"],
               ["", "g"], ["not found", "weak"]]
    assert learner_request("cat", headers, columns, 0) is None  # a note row
    r = learner_request(" cat ", headers, columns, 1)
    assert (r.left, r.right, r.right_lang) == ("cat", "猫", "ja")


def test_request_from_two_rows_of_the_set():
    texts, langs, groups = ["Good morning", "Guten Morgen", "Hello", "Good night"], \
        ["en", "de", "en", "en"], ["g1", "g1", None, None]
    r = rows_request(texts, langs, groups, [1, 0])  # the first clicked on the left
    assert (r.left, r.right, r.left_lang, r.right_lang, r.kind, r.rule, r.origin) == (
        "Guten Morgen", "Good morning", "de", "en", "translation", "symmetric", "map")
    assert rows_request(texts, langs, groups, [2, 3]).kind == "pair"  # no group
    assert rows_request(texts, langs, groups, [0, 2]).kind == "pair"  # other groups
    assert rows_request(texts, langs, groups, [0]) is None
    assert rows_request(texts, langs, groups, [0, 1, 2]) is None
    assert rows_request(texts, langs, groups, [0, 9]) is None


class _Encoder:
    """Vectors from a seeded hash of each text (translations of a group lie close)."""

    model_id = "fake-encoder-for-the-band"

    def __init__(self, groups: dict[str, object]) -> None:
        self.groups, self.encoded = groups, []

    def encode(self, texts, role="query", task=None, progress=None, cancelled=None):
        import zlib

        import numpy as np

        self.encoded.append(len(texts))
        out = []
        for t in texts:
            g = self.groups.get(t)
            base = np.random.default_rng(zlib.crc32(str(g).encode())).normal(size=16) \
                if g is not None else 0
            v = 3 * base + np.random.default_rng(zlib.crc32(t.encode())).normal(size=16)
            out.append(v / np.linalg.norm(v))
        return np.array(out, dtype=np.float32)


def test_band_is_computed_when_the_set_has_no_vectors_for_the_rule():
    from e5desk.core.calibration import CALIBRATIONS
    from e5desk.gui.pair.compute import Reference, _band, _sampled

    texts = [f"sentence {i} in {lang}" for i in range(60) for lang in ("en", "de")]
    langs = [lang for _ in range(60) for lang in ("en", "de")]
    groups = [f"g{i}" for i in range(60) for _ in range(2)]
    encoder = _Encoder(dict(zip(texts, groups, strict=True)))
    CALIBRATIONS.clear()
    request = PairRequest(texts[0], texts[1])  # symmetric
    for _ in range(2):
        result = PairResult(score=95.0)
        _band(encoder, request, Reference(texts, langs, groups), result)
        assert result.band and "unrelated pairs" in result.band, result.notes
        assert not result.notes
    assert encoder.encoded == [len(texts)]  # embedded once: the second time from the cache
    # no set loaded: a note, no band
    result = PairResult(score=95.0)
    _band(encoder, request, None, result)
    assert result.band is None and "load a sentence set" in result.notes[0]
    # a big set without vectors: a seeded sample of whole groups, the same every time
    small = _sampled(Reference(texts, langs, groups), limit=31)
    assert len(small.texts) == 30 and small.passage_vectors is None
    assert all(small.groups.count(g) == 2 for g in small.groups)
    assert small.texts == _sampled(Reference(texts, langs, groups), limit=31).texts
    CALIBRATIONS.clear()


# -- the widget (pytest-qt, offscreen) -----------------------------------------------------
class _Session:
    encoder = None
    combined = None


def _view(qtbot, width=900, height=320):
    from e5desk.gui.pair.view import PairView

    view = PairView(_Session())
    qtbot.addWidget(view)
    view.state.start(PairRequest(" ".join(SRC), " ".join(TGT), left_lang="en",
                                 right_lang="he", origin="suspect table"))
    view.state.finish(_result())
    view.resize(width, height)
    view.show()
    view.refresh()
    qtbot.waitExposed(view)
    return view


def test_hovering_a_word_lights_its_partner_and_tooltips_the_link_score(qtbot):
    pytest.importorskip("pytestqt")
    view = _view(qtbot)
    canvas = view.canvas
    assert canvas.side_by_side()
    assert "Missing in translation: milk" in view.summary.text()
    assert "higher than 99 %" in view.headline.text()
    got = []
    canvas.hovered.connect(got.append)
    qtbot.mouseMove(canvas, canvas.word_rect(0, 3).center().toPoint())  # coffee
    qtbot.waitUntil(lambda: view.state.hovered == (0, 3))
    assert got[-1] == (0, 3) and view.state.lit(1) == {2}
    assert "link score 0.73" in canvas.toolTip() and "קפה" in canvas.toolTip()
    # the Hebrew side runs right to left: its first word is the rightmost
    assert canvas.word_rect(1, 0).left() > canvas.word_rect(1, 1).left()
    assert canvas.word_rect(0, 0).left() < canvas.word_rect(0, 1).left()
    # the second mode: the same texts coloured by their share, the share in the tooltip
    view.mode_buttons.buttons()[1].click()
    assert view.state.mode == "shares" and not view.summary.isVisible()
    qtbot.mouseMove(canvas, canvas.word_rect(1, 3).center().toPoint())
    qtbot.waitUntil(lambda: view.state.hovered == (1, 3))
    assert "-1.50" in canvas.toolTip()
    # narrow: one text above the other, every word inside the view
    view.resize(420, 500)
    qtbot.waitUntil(lambda: not canvas.side_by_side())
    assert canvas.word_rect(1, 0).top() > max(r.bottom() for (s, _), r in canvas.rects.items()
                                             if s == 0)
    assert all(r.right() <= canvas.width() for r in canvas.rects.values())


def test_an_error_is_shown_in_the_view_not_raised(qtbot):
    pytest.importorskip("pytestqt")
    view = _view(qtbot)
    view.open(PairRequest("a", "b"))  # no model loaded in this session
    assert "the model is still loading" in view.headline.text()
    assert view.canvas.rects == {}


# -- the window, real model ---------------------------------------------------------------
def test_window_opens_the_pair_view_from_scores_and_suspects(qtbot, window):
    pytest.importorskip("pytestqt")
    from gui_helpers import GuiThreadWatch, start_with_sample, wait_idle

    start_with_sample(qtbot, window)
    dock, view = window.pair_dock, window.pair_dock.pair_view
    assert not dock.isVisible()
    bench = window.workbench
    bench.pair_query.setText("Will it rain tomorrow?")
    bench.pair_passage.setText("Mañana por la mañana lloverá.")
    watch = GuiThreadWatch()
    with qtbot.waitSignal(view.finished, timeout=120_000):
        bench.explain_pair()
        assert dock.isVisible() and view.state.busy and "Aligning" in view.headline.text()
    assert watch.worst < 0.5  # computed off the GUI thread
    state = view.state
    assert not state.error and state.request.kind == "query"
    assert state.alignment.src_words[:3] == ["Will", "it", "rain"]
    assert state.alignment.links and state.explanation.query_words[0] == "Will"
    assert view.headline.text().startswith("Score ")
    assert "from the Scores tab" in view.title.text()

    suspects = window.translations
    suspects.tabs.setCurrentIndex(1)
    suspects.check()
    qtbot.waitUntil(lambda: suspects.suspect_model.rowCount() > 0, timeout=120_000)
    wait_idle(qtbot, window)
    suspects.suspect_table.selectRow(0)
    row = suspects.suspect_model.source_row(0)
    source = suspects.suspect_model.columns[2][row]
    with qtbot.waitSignal(view.finished, timeout=120_000):
        why = [b for b in suspects.tabs.widget(1).findChildren(type(bench.run_button))
               if b.text() == "Why?"]
        assert len(why) == 1
        why[0].click()
    assert view.state.request.left == source and view.state.request.origin == "suspect table"
    assert not view.state.error and view.state.alignment.links
    # the set is embedded with the symmetric rule: the score comes with its band
    assert "unrelated pairs" in view.headline.text()
    assert view.canvas.rects
