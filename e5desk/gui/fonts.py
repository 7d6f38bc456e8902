"""Fonts that always work: the bundled fallback fonts (resources/fonts) fill in the glyphs the
system's fonts lack, so Chinese, Japanese and Hindi text never shows as boxes ("tofu") on a
system without such fonts. System fonts keep precedence; the window and the map PNG both call
``install_fallback_fonts`` after the Qt application exists."""

from __future__ import annotations

import logging

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication

from e5desk.core.resources import resource_path

log = logging.getLogger(__name__)

# DejaVu first: Latin, Cyrillic, Arabic on a system with no fonts at all (a container)
FALLBACK_FILES = ("DejaVuSans.ttf", "DroidSansFallbackFull.ttf", "NotoSansDevanagari-Regular.ttf")
_installed: list[str] | None = None


def install_fallback_fonts(app: QGuiApplication | None = None) -> list[str]:
    """Register the bundled fonts and append their families to the application font's
    family list (Qt tries the families in order for each character). Idempotent; returns the
    fallback families."""
    global _installed
    app = app or QGuiApplication.instance()
    if _installed is None:
        families: list[str] = []
        for name in FALLBACK_FILES:
            font_id = QFontDatabase.addApplicationFont(str(resource_path("fonts", name)))
            if font_id < 0:
                log.warning("fallback font %s could not be loaded", name)
                continue
            families += QFontDatabase.applicationFontFamilies(font_id)
        _installed = families
    if app is not None and _installed:
        font = app.font()
        wanted = [f for f in font.families() or [font.family()] if f not in _installed]
        font.setFamilies(wanted + _installed)
        app.setFont(font)
        for family in {font.family(), "Sans Serif", "DejaVu Sans"}:
            QFont.insertSubstitutions(family, _installed)  # fonts asked for by name, too
    return list(_installed)


def with_fallbacks(font: QFont) -> QFont:
    """A copy of ``font`` that falls back to the bundled fonts (for fonts set explicitly,
    e.g. bold labels on the map)."""
    out = QFont(font)
    extra = [f for f in (_installed or []) if f not in out.families()]
    if extra:
        out.setFamilies([*(out.families() or [out.family()]), *extra])
    return out
