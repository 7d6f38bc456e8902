"""User directories (platformdirs). Never write into the install directory.

``E5DESK_DATA_DIR`` / ``E5DESK_CACHE_DIR`` / ``E5DESK_CONFIG_DIR`` override the defaults
(tests and portable installs use them).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "e5desk"


def _dir(env: str, default: str) -> Path:
    path = Path(os.environ.get(env) or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_data_dir() -> Path:
    return _dir("E5DESK_DATA_DIR", platformdirs.user_data_dir(APP, appauthor=False))


def user_cache_dir() -> Path:
    return _dir("E5DESK_CACHE_DIR", platformdirs.user_cache_dir(APP, appauthor=False))


def user_config_dir() -> Path:
    return _dir("E5DESK_CONFIG_DIR", platformdirs.user_config_dir(APP, appauthor=False))
