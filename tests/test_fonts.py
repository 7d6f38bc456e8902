"""CJK and Devanagari render without system fonts: the bundled fallback fonts fill in (a fresh
Linux install or a container has none; before, labels and table cells were boxes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TEXT = "明天会下雨吗？ 明日は雨が降りますか？ क्या कल बारिश होगी? Will it rain? Будет ли дождь?"

# Counts the glyphs Qt lays out as .notdef (glyph 0, the box) for TEXT in the application
# font, before and after the fallback fonts are installed; a fresh process, because the font
# configuration is read once.
PROBE = r'''
import json, sys
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QTextLayout
app = QGuiApplication(["probe"])

def image(text):
    img = QImage(64, 40, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    painter.setFont(QGuiApplication.font())
    painter.drawText(4, 28, text)
    painter.end()
    return bytes(img.constBits())

def boxes(text):
    # Characters drawn as a box: a .notdef glyph (index 0) from a real font, or, with no font
    # at all (Qt then draws every character as a box), the same pixels as U+E000, a private
    # use character no font here has.
    box = image("")
    bad = 0
    for ch in text.replace(" ", ""):
        layout = QTextLayout(ch, QGuiApplication.font())
        layout.beginLayout(); layout.createLine(); layout.endLayout()
        glyphs = [g for run in layout.glyphRuns() for g in run.glyphIndexes()]
        pixels = image(ch)
        bad += not glyphs or 0 in glyphs or pixels == box or pixels == image(" ")
    return bad

before = boxes(sys.argv[1])
from e5desk.gui.fonts import install_fallback_fonts
families = install_fallback_fonts(app)
print(json.dumps({"before": before, "after": boxes(sys.argv[1]), "families": families}))
'''


def _empty_fontconfig(tmp_path) -> dict:
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{empty}</dir>"
                    f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    return {**os.environ, "FONTCONFIG_FILE": str(conf), "FONTCONFIG_PATH": str(tmp_path),
            "QT_QPA_PLATFORM": "offscreen"}


def test_cjk_and_hindi_render_with_no_system_fonts(tmp_path):
    run = subprocess.run([sys.executable, "-c", PROBE, TEXT], capture_output=True, text=True,
                         timeout=120, env=_empty_fontconfig(tmp_path))
    assert run.returncode == 0, run.stderr[-1500:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["before"] >= 30  # without the bundled fonts: boxes (the check can fail)
    assert found["after"] == 0, found
    assert "Droid Sans Fallback" in found["families"]
