"""Light and dark: the window follows the system's colour scheme (Qt's palette and
``QStyleHints.colorScheme()``) unless ``--theme light|dark`` asks for one; one style (Fusion)
and one spacing on every platform; the map's colours and the main actions' icons come from
here, so every tab looks the same."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from e5desk.core.resources import resource_path

THEMES = ("system", "light", "dark")
SPACING = 6  # between controls in a row, everywhere
MARGIN = 6  # around a tab's contents

_forced: str | None = None  # "light" / "dark" when --theme asked for one


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 48), QColor(222, 224, 228)
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor(38, 40, 43),
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: QColor(52, 54, 58),
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.ToolTipBase: QColor(55, 57, 61),
        QPalette.ColorRole.ToolTipText: text, QPalette.ColorRole.Highlight: QColor(53, 116, 240),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 160, 255),
        QPalette.ColorRole.PlaceholderText: QColor(140, 143, 148),
        QPalette.ColorRole.Mid: QColor(70, 72, 76), QPalette.ColorRole.Dark: QColor(20, 20, 22),
        QPalette.ColorRole.Light: QColor(75, 77, 82),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 126))
    return p


def apply_theme(app: QApplication, theme: str = "system") -> str:
    """Fusion style with the system's palette ("system"), or a light/dark palette; returns
    the scheme in use ("light" or "dark")."""
    global _forced
    app.setStyle("Fusion")
    _forced = theme if theme in ("light", "dark") else None
    hints = app.styleHints()
    if _forced == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
        app.setPalette(_dark_palette())
    elif _forced == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)
        app.setPalette(app.style().standardPalette())
    elif is_dark():
        app.setPalette(_dark_palette())  # Fusion's own palette is light on some platforms
    return "dark" if is_dark() else "light"


def is_dark() -> bool:
    """True when the window is dark: asked for, said by the system, or seen in the palette."""
    if _forced is not None:
        return _forced == "dark"
    app = QGuiApplication.instance()
    if app is None:
        return False
    if app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
        return True
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 110


def map_colours() -> dict[str, QColor]:
    """The map's background and label colours for the current scheme."""
    if is_dark():
        return {"background": QColor(24, 25, 28), "label_text": QColor(235, 235, 235),
                "label_fill": QColor(40, 42, 46, 225), "label_border": QColor(110, 110, 115),
                "leader": QColor(200, 200, 200, 200), "muted": QColor(160, 160, 165)}
    return {"background": QColor(255, 255, 255), "label_text": QColor(25, 25, 25),
            "label_fill": QColor(255, 255, 255, 225), "label_border": QColor(190, 190, 190),
            "leader": QColor(60, 60, 60, 200), "muted": QColor(102, 102, 102)}


def muted_css() -> str:
    """CSS colour for secondary text (explanations under figures) in this scheme."""
    return map_colours()["muted"].name()


def warning_css() -> str:
    return "#f0a050" if is_dark() else "#b35900"


# The main actions' icons: one line-icon set in resources/icons/actions (SVG, drawn in
# currentColor) recoloured to the palette's text colour, so they match light and dark alike;
# Qt's standard icons differ per platform style and mixed flat and 3-D looks in one toolbar.
ICONS = ("open", "save", "export", "sample", "score", "map", "cancel", "jobs", "help", "quit",
         "mine", "refresh")
ICON_SIZES = (16, 20, 24, 32, 48)


def icon(name: str) -> QIcon:
    """The icon of a main action ("open", "save", "score", "map", "cancel", ...)."""
    if QApplication.instance() is None or name not in ICONS:
        return QIcon()
    svg = resource_path("icons", "actions", f"{name}.svg").read_text(encoding="utf-8")
    out = QIcon()
    for mode, role_group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                             (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):
        colour = QGuiApplication.palette().color(role_group, QPalette.ColorRole.WindowText)
        renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", colour.name()).encode()))
        for size in ICON_SIZES:
            image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            renderer.render(painter)
            painter.end()
            out.addPixmap(QPixmap.fromImage(image), mode)
    return out
