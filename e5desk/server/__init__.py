"""``e5desk serve``: a local embedding API over one E5 model (needs the ``serve`` extra:
FastAPI + uvicorn). ``create_app(ServeSettings(...), model=...)`` builds the ASGI app."""

from e5desk.server.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app"]
