"""Workflows: one implementation per user workflow, below every front end (the CLI, the
Python API, the service and the window call these and only format or draw). Qt-free; typed
settings in, typed results out, progress and cancel through the one job protocol
(``progress(done, total)``, ``cancelled() -> bool``; core/jobs.py). See docs/architecture.md."""
