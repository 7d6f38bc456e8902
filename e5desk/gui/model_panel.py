"""Model panel: pick the embedded model, a Hugging Face cache model or a folder; device and
precision; the model card of what is loaded."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from e5desk.core.errors import E5DeskError
from e5desk.core.options import (
    DEFAULT_DEVICE,
    DEFAULT_ENGINE,
    DEFAULT_PRECISION,
    DEVICE_CHOICES,
    ENGINE_CHOICES,
    PRECISION_CHOICES,
)
from e5desk.gui.session import Session

TOOLTIP_ROLE = 0x0003  # Qt.ItemDataRole.ToolTipRole


def _fill(box: QComboBox, choices) -> None:
    """The CLI's choices (core.options), labelled, each with its help as tooltip."""
    for choice in choices:
        box.addItem(choice.label, choice.key)
        box.setItemData(box.count() - 1, choice.help, TOOLTIP_ROLE)


def _breakable(text: str) -> str:
    """Escaped, with break opportunities after path and name separators: a long folder or
    model id wraps in a narrow dock instead of widening the card past it (cut at 1024x700)."""
    out = html.escape(str(text))
    for sep in ("/", "\\", "_", "-", ".", ":", ","):
        out = out.replace(sep, sep + "\u200b")
    return out


class ModelPanel(QWidget):
    status = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.models = QComboBox()
        self.models.setMinimumContentsLength(18)
        self.device = QComboBox()
        _fill(self.device, DEVICE_CHOICES)
        self.precision = QComboBox()
        _fill(self.precision, PRECISION_CHOICES)
        self.engine = QComboBox()
        _fill(self.engine, ENGINE_CHOICES)
        self.load_button = QPushButton("Load")
        add = QPushButton("Add folder…")
        self.card = QLabel("No model loaded.")
        self.card.setWordWrap(True)
        self.card.setObjectName("modelCard")
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow docks
        form.addRow("Model:", self.models)
        form.addRow("Device:", self.device)
        form.addRow("Precision:", self.precision)
        form.addRow("Engine:", self.engine)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addStretch(1)
        buttons.addWidget(self.load_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.card, 1)

        self.load_button.clicked.connect(self.load_selected)
        add.clicked.connect(self.add_folder)
        session.model_loading.connect(lambda name: self.card.setText(f"Loading {name}…"))
        session.model_changed.connect(self.show_card)
        session.model_failed.connect(self._failed)
        self._mark_devices()

    def _mark_devices(self) -> None:
        """Grey out the devices this machine lacks, as the model process reports them (the
        GUI process never imports torch); all stay offered until a model has loaded."""
        devices = getattr(self.session.encoder, "devices", None)
        if not devices:
            return
        there = {d.split(":")[0] for d in devices}
        items = self.device.model()
        for i in range(self.device.count()):
            key = self.device.itemData(i)
            usable = key == "auto" or key in there
            items.item(i).setEnabled(usable)
            help_ = next(c.help for c in DEVICE_CHOICES if c.key == key)
            self.device.setItemData(i, help_ if usable else f"{help_}: not available here",
                                    TOOLTIP_ROLE)

    def refresh_models(self) -> None:
        """List models; runs discovery in the background (it may convert the embedded one)."""
        from e5desk.core.models.discovery import ModelSource, list_models

        def done(found) -> None:
            current = self.models.currentData()
            self.models.clear()
            for m in found:
                if isinstance(m, ModelSource):
                    key = "embedded" if m.origin == "embedded" else str(m.path)
                    family = "" if m.family.display in m.name else f"{m.family.display}, "
                    self.models.addItem(f"{m.name}  ({family}{m.dim}d)", key)
                else:
                    self.models.addItem(f"{m[0]} — unusable", None)
                    i = self.models.count() - 1
                    self.models.setItemData(i, m[1], TOOLTIP_ROLE)  # why not
            i = self.models.findData(current)
            if i >= 0:
                self.models.setCurrentIndex(i)

        self.session.runner.start("Finding models", lambda p, c: list_models(), done)

    def load_selected(self) -> None:
        spec = self.models.currentData()
        if spec is None and self.models.count():
            self.status.emit(self.models.itemData(self.models.currentIndex(), TOOLTIP_ROLE) or
                             "That model cannot be used.")
            return
        self.session.load_model(None if spec in (None, "embedded") else spec,
                                device=self.device.currentData() or DEFAULT_DEVICE,
                                precision=self.precision.currentData() or DEFAULT_PRECISION,
                                engine=self.engine.currentData() or DEFAULT_ENGINE)

    def add_folder(self) -> None:
        from e5desk.core.models.discovery import add_configured_folder

        path = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if not path:
            return
        try:
            add_configured_folder(path)
        except E5DeskError as exc:
            self.card.setText(f"<b>Cannot use this folder.</b><br>{html.escape(str(exc))}")
            return
        self.refresh_models()
        self.status.emit(f"Added {path}")

    def _failed(self, message: str) -> None:
        self.card.setText(f"<b>The model could not be loaded.</b><br>{html.escape(message)}")
        self.status.emit(message)

    def show_card(self) -> None:
        enc = self.session.encoder
        if enc is None:
            return
        self._mark_devices()
        # one line per fact, "key: value", wrapping anywhere: a two-column table kept the
        # dock wider than a 1024-pixel screen leaves it
        rows = "".join(f"<p><b>{html.escape(k)}:</b> {_breakable(v)}</p>"
                       for k, v in enc.source.card().items())
        dtype = str(enc.dtype).replace("torch.", "")
        precision = getattr(enc, "precision", "")
        rows += (f"<p><b>running on:</b> {html.escape(enc.device)}, "
                 f"{html.escape(dtype)} (precision {html.escape(precision)})</p>")
        i = self.precision.findData(precision)
        if i >= 0:
            self.precision.setCurrentIndex(i)
        engine = getattr(enc, "engine", "")
        i = self.engine.findData(engine)
        if i >= 0:
            self.engine.setCurrentIndex(i)
        # which engine runs what and why (the model process's own description)
        how = enc.describe().partition("; engine ")[2].rpartition(",")[0]
        if engine and how:
            rows += f"<p><b>engine:</b> {_breakable(how)}</p>"
        self.card.setText(rows)
