"""The pair view: two texts as linked word boxes (or coloured by their share of the score),
the score with its calibrated band, and what has no partner. Computation runs as one job on
the window's JobRunner; the view shows a busy line while it runs and errors as text."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from e5desk.gui.pair.canvas import WordCanvas
from e5desk.gui.pair.compute import Reference, compute_pair
from e5desk.gui.pair.state import MODES, PairRequest, PairState


class PairView(QWidget):
    status = Signal(str)
    finished = Signal()  # a result (or an error) is shown

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.state = PairState()
        self._job = None
        self.title = QLabel()
        self.title.setObjectName("pairTitle")
        self.headline = QLabel()
        self.headline.setObjectName("pairScore")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mode_buttons = QButtonGroup(self)
        modes = QHBoxLayout()
        modes.setSpacing(0)
        for key, label in MODES.items():
            button = QPushButton(label)
            button.setCheckable(True)
            button.setProperty("mode", key)
            button.setChecked(key == self.state.mode)
            self.mode_buttons.addButton(button)
            modes.addWidget(button)
        self.mode_buttons.buttons()[0].setToolTip(
            "Words linked across the two texts (from the model's contextual word vectors)")
        self.mode_buttons.buttons()[1].setToolTip(
            "Each word's share of the score: warm pushes it up, cool pulls it down")
        self.canvas = WordCanvas(self.state)
        scroll = QScrollArea()
        scroll.setWidget(self.canvas)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.summary = QLabel()
        self.summary.setObjectName("pairSummary")
        self.summary.setWordWrap(True)
        self.legend = QLabel()
        self.legend.setObjectName("note")
        self.legend.setWordWrap(True)
        # Two lines of text around the words (the dock is short on a 1024 x 700 screen):
        # where it came from and the score above, what has no partner and the legend below.
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.headline, 1)
        top.addLayout(modes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.legend)
        self.mode_buttons.buttonClicked.connect(lambda b: self.set_mode(b.property("mode")))
        self.refresh()

    # -- opening a pair ---------------------------------------------------------------------
    def open(self, request: PairRequest) -> None:
        """Show ``request``'s pair: compute in the background (a newer pair replaces a
        running one)."""
        encoder = self.session.encoder
        self.state.start(request)
        if encoder is None:
            self.state.fail("the model is still loading")
            self.refresh()
            return
        if self._job is not None:
            self._job.cancel()
        reference = self._reference(request)

        def job(progress, cancelled):
            return compute_pair(encoder, request, reference, progress, cancelled)

        def done(result) -> None:
            if self.state.request is request:
                self._job = None
                self.state.finish(result)
                self.refresh()
                self.finished.emit()

        def failed(message: str) -> None:
            if self.state.request is request:
                self._job = None
                self.state.fail(message)
                self.refresh()
                self.finished.emit()

        self._job = self.session.runner.start("Explaining a pair", job, done,
                                              on_error=failed,
                                              on_cancel=lambda: failed("cancelled"))
        self.refresh()

    def _reference(self, request: PairRequest) -> Reference | None:
        """The loaded set with its vectors in the rule's passage role (without vectors when
        not yet embedded in that role: the job embeds them for the band, off the GUI
        thread). None without a set."""
        from e5desk.core.prefix_rules import prefix_rule

        c = self.session.combined
        if c is None:
            return None
        try:
            vectors = self.session.vectors(prefix_rule(request.rule).passage_role,
                                           request.task)
        except Exception:  # noqa: BLE001 - an unknown rule: no band, the job says why
            return None
        if vectors is None or len(vectors) != len(c):
            vectors = None
        return Reference(list(c.text), list(c.lang), list(c.group), vectors)

    def set_mode(self, mode: str) -> None:
        self.state.set_mode(mode)
        for button in self.mode_buttons.buttons():
            button.setChecked(button.property("mode") == mode)
        self.refresh()

    # -- showing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        s = self.state
        r = s.request
        langs = " → ".join(x for x in (r.left_lang, r.right_lang) if x) if r else ""
        self.title.setText(" · ".join(t for t in (f"<b>{langs}</b>" if langs else "",
                                                   f"from the {r.origin}:" if r and r.origin
                                                   else "") if t))
        self.title.setVisible(bool(self.title.text()))
        self.headline.setText(s.headline())
        self.headline.setStyleSheet("color: #b00020" if s.error else "")
        self.headline.setToolTip(s.result.band_tip if s.result else "")
        notes = s.result.notes if s.result else []
        summary = s.summary() if s.mode == "links" else ""
        self.summary.setText("  ·  ".join([t for t in (summary, *notes) if t]))
        self.summary.setVisible(bool(self.summary.text()))
        self.legend.setText(s.legend() if s.result else "")
        self.canvas.relayout()
