"""``e5desk serve`` inside another program (the window's Serve switch): uvicorn on a daemon
thread, the model loaded lazily by the server's encoder thread on the first request.

``in_child``: the model runs in an EncoderProcess (a child process), as the window's own
model does, so the serving program never imports torch and its GUI thread never waits on
the GIL while the model loads."""

from __future__ import annotations

import threading
import time

from e5desk.core.errors import E5DeskError
from e5desk.core.options import DEFAULT_ENGINE


class BackgroundServer:
    """Start/stop a local server; ``status()`` is what the window shows."""

    def __init__(self, model: str | None = None, precision: str = "auto",
                 host: str = "127.0.0.1", port: int = 8080, device: str = "auto",
                 in_child: bool = False, engine: str = DEFAULT_ENGINE) -> None:
        self.model, self.precision, self.device = model, precision, device
        self.engine = engine
        self.in_child = in_child
        self._child = None  # the EncoderProcess, once the first request loaded it
        self.host, self.port = host, port
        self._server = None
        self._thread: threading.Thread | None = None
        self._app = None
        self.error = ""

    @property
    def address(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> None:
        """Bind and serve (returns once listening); E5DeskError if that fails."""
        try:
            import uvicorn

            from e5desk.server.app import ServeSettings, create_app
        except ImportError as exc:
            raise E5DeskError(f"serving needs the 'serve' extra ({exc.name} is missing): "
                              "pip install 'e5desk[serve]'") from None
        if self.running:
            return
        self._app = create_app(ServeSettings(host=self.host, port=self.port), load=self._load)
        config = uvicorn.Config(self._app, host=self.host, port=self.port,
                                log_level="critical", log_config=None)
        self._server = server = uvicorn.Server(config)
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                server.run()
            except BaseException as exc:  # noqa: BLE001 - SystemExit when the port is taken
                failure.append(exc)

        self.error = ""
        self._thread = threading.Thread(target=serve, name="e5desk-serve", daemon=True)
        self._thread.start()
        if timeout <= 0:  # the window polls status() instead of waiting
            return
        end = time.monotonic() + timeout
        while not server.started and self._thread.is_alive() and time.monotonic() < end:
            time.sleep(0.02)
        if not server.started:
            self.stop()
            raise E5DeskError(self.error)

    def _load(self):
        from e5desk.api import Model, load_model

        if not self.in_child:
            return load_model(self.model, precision=self.precision, device=self.device,
                              engine=self.engine)
        from e5desk.core.encoder_process import EncoderProcess

        self._child = EncoderProcess(self.model, precision=self.precision,
                                     device=self.device, cache=True, engine=self.engine)
        return Model(self._child)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._server is not None and not self._server.started and not self.error:
            self.error = f"cannot listen on {self.host}:{self.port} (port in use?)"
        self._thread = self._server = None
        if self._child is not None:
            self._child.close()
            self._child = None

    def status(self) -> str:
        if self._thread is not None and not self.running:  # the thread ended by itself
            self.stop()
        if not self.running:
            return f"serve: off{f' ({self.error})' if self.error else ''}"
        if not self._server.started:
            return f"serve: starting on {self.address}…"
        stats = self._app.state.stats
        text = f"serving {self.address} · {stats.requests} requests"
        if stats.last_error:
            text += f" · last error: {stats.last_error[:80]}"
        return text
