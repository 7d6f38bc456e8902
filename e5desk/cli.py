"""`e5desk` entry point.

No arguments (or only files) opens the window; subcommands run headless. Each subcommand
lives in ``e5desk.commands.<name>`` and exposes ``register(subparsers)``; its parser sets
``func(args) -> int``. User errors (``E5DeskError``) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from e5desk import __version__
from e5desk.commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="e5desk",
        description="Offline explorer for multilingual E5 text embeddings. "
        "Without a command, opens the desktop app.",
        epilog="Desktop app: e5desk [FILE_OR_PROJECT ...] [--model M] [--device D] "
        "[--precision P] [--query TEXT] [--no-sample] [--tab scores|map|translations] "
        "[--screenshot OUT.png] (see `e5desk --app-help`).",
    )
    parser.add_argument("--version", action="version", version=f"e5desk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"e5desk.commands.{name}")
        except ModuleNotFoundError as exc:  # a command still being built
            if exc.name == f"e5desk.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def _run_gui(argv: list[str]) -> int:
    try:
        from e5desk.gui.app import run as run_gui
    except ImportError as exc:
        print(f"e5desk: the desktop app is not available ({exc}).", file=sys.stderr)
        return 2
    return run_gui(argv)


def main(argv: list[str] | None = None) -> int:
    from e5desk.core.errors import E5DeskError, cut

    argv = list(sys.argv[1:] if argv is None else argv)
    commands = set(COMMANDS)
    if argv[:1] == ["--app-help"]:
        return _run_gui(["--help"])
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help", "--version")):
        return _run_gui(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except E5DeskError as exc:
        print(f"e5desk: error: {cut(exc)}", file=sys.stderr)  # a long one cut, with a count
        return 2
    except KeyboardInterrupt:
        print("e5desk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
