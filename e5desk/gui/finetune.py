"""Fine-tune panel (Tools ▸ Fine-tune…): data, base model, epochs and held-out share in;
a live loss curve, the held-out before/after table and "Use this model" out.

The training is ``e5desk.core.training.train`` (the same as ``e5desk train``), run as a job
on the window's JobRunner; the job itself runs it in a child process
(``e5desk.core.train_process``), so neither the GUI thread nor the GUI process runs torch.
Cancel leaves no model folder (the core writes to a temporary folder and renames it).
"""

from __future__ import annotations

import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from e5desk.gui.tables import ResultTable, table_panel
from e5desk.workflows.train import TrainSettings, fine_tune, metric_table


class _Relay(QObject):
    """Made on the GUI thread, emitted from the job's thread: delivered queued."""

    loss = Signal(int, float)
    status = Signal(str)


def default_output(data: str) -> Path:
    from e5desk.core.paths import user_data_dir

    name = Path(data).stem or "data"
    return user_data_dir() / "models" / f"{name}-tuned-{time.strftime('%Y%m%d-%H%M%S')}"


class FinetunePanel(QDialog):
    """Non-modal; one per window (``open_finetune``)."""

    status = Signal(str)
    model_added = Signal(str)  # folder of a new model the user chose to use

    def __init__(self, session, models: QComboBox | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune a model on your pairs")
        self.setObjectName("finetunePanel")
        self.session = session
        self.job = None
        self.result = None
        self.losses: list[tuple[int, float]] = []

        self.data = QLineEdit()
        self.data.setPlaceholderText("folder with train.jsonl + passages.jsonl, or a "
                                     "parallel set (PO, TMX, XLIFF, CSV)")
        folder_button = QPushButton("Folder…")
        file_button = QPushButton("File…")
        data_row = QHBoxLayout()
        data_row.addWidget(self.data, 1)
        data_row.addWidget(folder_button)
        data_row.addWidget(file_button)
        self.base = QComboBox()
        self.base.setMinimumContentsLength(24)
        self._fill_models(models)
        self.epochs = QSpinBox(minimum=1, maximum=50, value=1)
        self.held_out = QDoubleSpinBox(minimum=0.0, maximum=0.9, singleStep=0.05, value=0.2,
                                       decimals=2)
        self.held_out.setToolTip("Share of the queries (groups) kept out of training for the "
                                 "before/after check; 0 = none")
        self.batch_size = QSpinBox(minimum=2, maximum=1024, value=32)
        self.batch_size.setToolTip("Rows per batch: more rows = more in-batch negatives")
        self.out = QLineEdit()
        self.out.setPlaceholderText("new model folder (default: in e5desk's data folder)")
        form = QFormLayout()
        form.addRow("Data:", data_row)
        form.addRow("Base model:", self.base)
        form.addRow("Epochs:", self.epochs)
        form.addRow("Held-out share:", self.held_out)
        form.addRow("Batch size:", self.batch_size)
        form.addRow("Output folder:", self.out)

        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.use_button = QPushButton("Use this model")
        self.use_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.use_button)
        self.state = QLabel("Choose the data and press Train.")
        self.state.setWordWrap(True)
        self.state.setObjectName("finetuneState")

        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "training loss")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setMinimumHeight(160)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                                    symbolSize=5, symbolBrush="#1f77b4", symbolPen=None)
        self.table = ResultTable("finetune_before_after", "before/after",
                                 empty_hint="Train a model first.")
        self.table.status.connect(self.status)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setObjectName("finetuneVerdict")
        table_box = table_panel(self.table, self.verdict, note_above=True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(table_box)
        split.setSizes([260, 240])
        self.table.setMinimumHeight(170)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addWidget(split, 1)
        self.resize(760, 760)

        self.relay = _Relay(self)
        self.relay.loss.connect(self._add_loss)
        self.relay.status.connect(self.state.setText)
        folder_button.clicked.connect(self._choose_folder)
        file_button.clicked.connect(self._choose_file)
        self.train_button.clicked.connect(self.start_training)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.use_model)

    # -- inputs ------------------------------------------------------------------------
    def _fill_models(self, models: QComboBox | None) -> None:
        """The Model panel's list (its keys: 'embedded' or a folder), the loaded model first."""
        self.base.clear()
        loaded = self.session.model_spec
        self.base.addItem(f"the loaded model ({loaded or 'embedded'})", loaded or "embedded")
        if models is not None:
            for i in range(models.count()):
                key = models.itemData(i)
                if key is not None and key != (loaded or "embedded"):
                    self.base.addItem(models.itemText(i), key)
        elif loaded:
            self.base.addItem("embedded multilingual-e5-small", "embedded")

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Training data folder")
        if path:
            self.data.setText(path)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Training data", "", "Training data (train.jsonl *.po *.tmx *.xlf *.xliff "
            "*.csv *.tsv *.jsonl);;All files (*)")
        if path:
            self.data.setText(path)

    def config(self):
        from e5desk.core.train_data import TrainConfig

        return TrainConfig(epochs=self.epochs.value(), held_out=self.held_out.value(),
                           batch_size=self.batch_size.value())

    # -- training ----------------------------------------------------------------------
    def start_training(self, config=None) -> None:
        """Train on the chosen data as a job (``config``: a TrainConfig, default from the
        form)."""
        if self.job is not None:
            return
        data = self.data.text().strip()
        if not data:
            self.state.setText("Choose the training data first.")
            return
        out = Path(self.out.text().strip() or default_output(data)).expanduser()
        self.out.setText(str(out))
        base = self.base.currentData()
        base = None if base in (None, "embedded") else base
        cfg = config or self.config()
        self.losses = []
        self.curve.setData([], [])
        self.table.result_model.set_data([], [])
        self.verdict.clear()
        self.result = None
        self.use_button.setEnabled(False)
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.state.setText("Starting the training process…")
        relay = self.relay

        def job(progress, cancelled):
            from e5desk.core.train_process import train_in_child

            return fine_tune(TrainSettings([Path(data)], out, base, config=cfg),
                             train_in_child, progress=progress, cancelled=cancelled,
                             on_log=relay.loss.emit, on_status=relay.status.emit)

        self.job = self.session.runner.start("Fine-tuning", job, self._done,
                                             on_error=self._failed, on_cancel=self._cancelled)
        self.job.signals.progress.connect(self._progress)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.state.setText("Cancelling…")

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        loss = f" · loss {self.losses[-1][1]:.4f}" if self.losses else ""
        self.progress.setFormat(f"step {done} of {total}{loss}")

    def _add_loss(self, step: int, loss: float) -> None:
        self.losses.append((step, loss))
        self.curve.setData([s for s, _ in self.losses], [v for _, v in self.losses])

    def _finish(self) -> None:
        self.job = None
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    def _done(self, trained) -> None:
        result = trained.result
        self._finish()
        self.result = result
        self.progress.setValue(self.progress.maximum())
        early = (f", stopped early (held-out score dropped; epoch {result.best_epoch} kept)"
                 if result.stopped_early else "")
        self.progress.setFormat(f"done: {result.steps} steps{early}")
        for step, loss in result.losses:  # any the relay had not delivered yet
            if (step, loss) not in self.losses:
                self.losses.append((step, loss))
        self.losses.sort()
        self.curve.setData([s for s, _ in self.losses], [v for _, v in self.losses])
        self.table.result_model.set_data(*metric_table(result.before, result.after))
        self.verdict.setText(result.verdict())
        if trained.note:
            self.status.emit(trained.note)
        self.state.setText(f"{result.steps} steps in {result.seconds:.0f} s; model written to "
                           f"{result.out}")
        self.use_button.setEnabled(True)
        self.status.emit(f"Fine-tuned model written to {result.out}")

    def _failed(self, message: str) -> None:
        self._finish()
        self.state.setText(f"Training stopped: {message}")
        self.status.emit(message)

    def _cancelled(self) -> None:
        self._finish()
        self.progress.setValue(0)
        self.state.setText("Training cancelled: nothing was written.")

    def use_model(self) -> None:
        """Load the new folder as the window's model (as the Model panel loads a folder)."""
        if self.result is None:
            return
        folder = str(self.result.out)
        self.session.load_model(folder)
        self.model_added.emit(folder)
        self.status.emit(f"Loading the fine-tuned model {folder}")


def open_finetune(window) -> FinetunePanel:
    """Show the window's Fine-tune panel (made on first use)."""
    panel = getattr(window, "finetune_panel", None)
    if panel is None:
        panel = FinetunePanel(window.session, window.model_panel.models, window)
        panel.status.connect(window.show_status)
        panel.model_added.connect(lambda _folder: window.model_panel.refresh_models())
        window.finetune_panel = panel
    elif panel.job is None:
        panel._fill_models(window.model_panel.models)
    panel.show()
    panel.raise_()
    return panel
