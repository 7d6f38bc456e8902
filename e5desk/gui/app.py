"""`e5desk` (no subcommand): the desktop app.

    e5desk [FILE ...] [--model M] [--device D] [--query TEXT] [--screenshot OUT.png]

Opens the window at once; the model loads and the bundled sample (or FILEs) open in the
background. ``--screenshot`` renders the window after loading, embedding and scoring, saves
it and exits (for docs and tests).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # reference for the start-up times in the log

EXAMPLE_QUERY = "Will it rain tomorrow?"


def parse_args(argv: list[str]) -> argparse.Namespace:
    from e5desk.core.options import DEFAULT_DEVICE, DEFAULT_PRECISION, DEVICES, PRECISIONS

    p = argparse.ArgumentParser(prog="e5desk", description="Offline explorer for multilingual "
                                "E5 embeddings: the desktop app. The commands for the terminal "
                                "are listed by `e5desk --help`.")
    p.add_argument("files", nargs="*", help="sentence set files or an .e5desk project to open")
    p.add_argument("--model", default=None, help="model folder or name (default: embedded)")
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES)
    p.add_argument("--precision", default=DEFAULT_PRECISION, choices=PRECISIONS)
    from e5desk.core.options import DEFAULT_ENGINE, ENGINES

    p.add_argument("--engine", dest="model_engine", default=DEFAULT_ENGINE, choices=ENGINES)
    p.add_argument("--query", default=None, help="query to score once everything is loaded")
    p.add_argument("--vectors", type=Path, default=None, metavar="V.npy",
                   help="vectors computed elsewhere for FILE (.npy N x D float32/float16 or "
                   "Parquet with a vector column; row i = sentence i): shown without embedding")
    p.add_argument("--no-sample", action="store_true", help="do not open the bundled sample")
    p.add_argument("--tab", choices=["scores", "map", "translations"], default="scores",
                   help="tab to show first; 'map' also computes the map")
    p.add_argument("--screenshot", type=Path, default=None, metavar="OUT.png",
                   help="render the window after loading and scoring, save it, exit "
                   "(works without a display)")
    p.add_argument("--theme", choices=["system", "light", "dark"], default="system",
                   help="colours: follow the system (default), or light or dark")
    p.add_argument("--timeout", type=float, default=300, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def setup_logging() -> Path:
    from e5desk.core.paths import user_data_dir

    log_file = user_data_dir() / "e5desk.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return log_file


class AutoPilot:
    """Once model and sentences are ready: embed, score the query, optionally screenshot."""

    def __init__(self, window, query: str | None, screenshot: Path | None,
                 timeout: float, tab: str = "scores") -> None:
        from PySide6.QtCore import QTimer

        self.window, self.query, self.screenshot = window, query, screenshot
        self.deadline = time.monotonic() + timeout
        self.scored = False
        self.ready_logged = False
        self.settled = False  # map screenshots wait one tick for the cluster labels
        self.tab = tab
        self.mapped = tab != "map"
        self.exit_code = 0
        self.reported: set[str] = set()
        self.timer = QTimer(window, interval=150)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        window.session.model_failed.connect(self.model_failed)
        window.runner.failed.connect(self.job_failed)
        if query:
            window.workbench.set_queries(query)

    def model_failed(self, message: str) -> None:
        """The reason goes to stderr as well as to the dialog and the model panel; a
        screenshot run saves what the window shows and exits with 2 (never only a Qt
        warning and a bare non-zero exit)."""
        self._report(message)

    def _report(self, message: str) -> None:
        if message in self.reported:  # the model job's failure arrives by both signals
            return
        self.reported.add(message)
        print(f"e5desk: error: {message}", file=sys.stderr, flush=True)
        if self.screenshot is not None and self.timer.isActive():
            self.finish(2)

    def job_failed(self, name: str, message: str) -> None:
        """A screenshot run cannot show what it was asked to (the model failing to load
        while embedding arrives here): say why on stderr and exit with 2."""
        if self.screenshot is not None:
            self._report(message)

    def tick(self) -> None:
        w = self.window
        session = w.session
        if time.monotonic() > self.deadline:
            busy = ", ".join(job.name for job in w.runner.running) or "nothing running"
            print(f"e5desk: error: the window was not ready within the time limit "
                  f"({busy}; see the log file)", file=sys.stderr, flush=True)
            self.finish(1)
            return
        if session.encoder is None or w.runner.running:
            return
        if session.combined is None:
            if self.screenshot is not None and not w.runner.running:
                self.finish(0)  # nothing to load (no sample, no files)
            return
        if self.scored and not self.ready_logged and w.workbench.ranking is not None:
            self.ready_logged = True
            logging.getLogger(__name__).info(
                "first scores shown after %.2f s", time.perf_counter() - STARTED)
        if not self.scored:
            self.scored = True
            if w.workbench.queries.toPlainText().strip():
                w.workbench.run()
            if self.tab == "translations":
                w.tabs.setCurrentWidget(w.translations)
                if self.query:  # the query's translations too, as "How is it said?" shows
                    w.translations.learner.sentence.setText(self.query)
                    w.translations.learner.find_translations()
            return
        if not self.mapped:
            self.mapped = True
            w.tabs.setCurrentWidget(w.map_view)
            w.map_view.compute_map()
            return
        if self.screenshot is None:
            self.timer.stop()
            return
        if self.tab == "map" and not w.map_view.clusters:
            return
        if self.tab == "map" and not self.settled:
            self.settled = True  # labels are laid out on a short timer
            return
        if w.workbench.ranking is not None or not self.query:
            self.finish(0)

    def finish(self, code: int) -> None:
        from PySide6.QtWidgets import QApplication

        self.timer.stop()
        self.exit_code = code
        if self.screenshot is not None:
            self.window.runner.cancel_all()  # jobs still reading or embedding stop first
            self.window.runner.wait(10000)
            QApplication.processEvents()
            self.window.grab().save(str(self.screenshot))
            self.window.project.discard_autosave()  # not a crash: nothing to recover
            QApplication.instance().exit(code)


def run(argv: list[str]) -> int:
    import os

    args = parse_args(argv)
    if args.screenshot is not None and not (os.environ.get("DISPLAY")
                                            or os.environ.get("WAYLAND_DISPLAY")
                                            or sys.platform in ("win32", "darwin")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # render without a screen
    import e5desk.core  # noqa: F401  (offline mode before anything imports transformers)

    log_file = setup_logging()
    from PySide6.QtCore import QLoggingCategory, QSettings
    from PySide6.QtWidgets import QApplication

    from e5desk.gui.main_window import MainWindow

    # Qt's font database warns for every font that lacks OpenType tables for a script the
    # bundled fallback font covers; the text still renders (tests/test_fonts.py)
    if "QT_LOGGING_RULES" not in os.environ:  # a user's own rules win
        QLoggingCategory.setFilterRules("qt.text.font.db*=false")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from e5desk.gui.fonts import install_fallback_fonts

    install_fallback_fonts(app)  # CJK, Hindi, any script: never boxes (resources/fonts)
    from e5desk.gui.workers import GuiThreadCollector

    app._collector = GuiThreadCollector(app)  # garbage is collected on the GUI thread
    app.setApplicationName("e5desk")
    app.setOrganizationName("e5desk")
    from PySide6.QtGui import QIcon

    from e5desk.core.resources import resource_path

    app.setWindowIcon(QIcon(str(resource_path("icons", "e5desk.svg"))))
    from e5desk.gui.theme import apply_theme

    apply_theme(app, args.theme)  # the system's light or dark, or the one asked for
    settings = QSettings("e5desk", "e5desk")
    window = MainWindow(settings)
    window.log_file = log_file
    for f in [*args.files, *([args.vectors] if args.vectors else [])]:
        if not Path(f).exists():
            print(f"e5desk: error: {f}: file not found", file=sys.stderr)
            return 2
    if args.vectors and len(args.files) != 1:
        print("e5desk: error: --vectors needs exactly one FILE (the sentences, row i = "
              "vector i)", file=sys.stderr)
        return 2
    window.show()
    from e5desk.gui.first_start import show_first_start

    window.first_start = show_first_start(window, args.model)  # converting: says so
    logging.getLogger(__name__).info("window shown after %.2f s",
                                     time.perf_counter() - STARTED)
    window.start(args.model, [] if args.vectors else args.files,
                 sample=not args.no_sample and not args.vectors,
                 device=args.device, precision=args.precision, engine=args.model_engine)
    if args.vectors:
        window.open_with_vectors(args.files[0], args.vectors)
    query = args.query
    if query is None and not args.files and not args.no_sample:
        query = EXAMPLE_QUERY
    pilot = AutoPilot(window, query, args.screenshot, args.timeout, args.tab)
    from e5desk.gui.projects import install_signal_handlers

    install_signal_handlers(app, window)  # SIGTERM/SIGINT: a clean quit, not a crash
    code = app.exec()
    return code or pilot.exit_code
