"""File ▸ Serve local API: ``e5desk serve`` in the window's process (background thread; the
model in a child process, like the window's),
with the window's model and precision; a status-bar line shows address, requests and the
last error."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel


class ServeSwitch(QObject):
    def __init__(self, window, menu, port: int = 8080) -> None:
        super().__init__(window)
        self.window, self.port, self.server = window, port, None
        self.action = QAction("Serve local &API (127.0.0.1)", window)
        self.action.setCheckable(True)
        self.action.setToolTip("e5desk serve inside the window: OpenAI, TEI, Pinecone, "
                               "SambaStudio and Replicate routes on this machine only")
        self.action.toggled.connect(self.toggle)
        menu.addAction(self.action)
        self.label = QLabel()
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self.timer = QTimer(self, interval=1000)
        self.timer.timeout.connect(self.refresh)

    def toggle(self, on: bool) -> None:
        from e5desk.core.errors import E5DeskError
        from e5desk.server.background import BackgroundServer

        if on:
            session = self.window.session
            self.server = BackgroundServer(
                session.model_spec, getattr(session.encoder, "precision", None) or "auto",
                port=self.port, in_child=True,
                engine=getattr(session.encoder, "engine", None) or "auto")
            try:
                self.server.start(timeout=0)  # binding is polled: the GUI never waits
            except E5DeskError as exc:
                self.server.error = str(exc)
            self.timer.start()
        elif self.server is not None:
            self.server.stop()
            self.timer.stop()
        self.refresh()

    def refresh(self) -> None:
        text = self.server.status() if self.server is not None else ""
        self.label.setText(text)
        self.label.setVisible(bool(text))
        if self.server is not None and not self.server.running and self.action.isChecked():
            self.action.blockSignals(True)  # it stopped by itself (port in use)
            self.action.setChecked(False)
            self.action.blockSignals(False)
            self.timer.stop()

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
