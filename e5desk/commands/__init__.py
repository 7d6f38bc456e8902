"""Headless subcommands of `e5desk`: one module per command, each with ``register``.

The list lives here (not in cli.py) so the window's help can name the commands without
importing the CLI entry point (cli -> gui.app -> cli was a cycle)."""

COMMANDS = ["embed", "score", "map", "mine", "check", "eval", "inspect", "export", "models"]
COMMANDS += ["train"]  # `e5desk train` (issue 17)
COMMANDS += ["batch"]  # `e5desk batch` (issue 16)
COMMANDS += ["serve"]  # `e5desk serve` (issue 15)
COMMANDS += ["explain"]  # `e5desk explain` (issue 25)
COMMANDS += ["align"]  # `e5desk align` (issue 25)
