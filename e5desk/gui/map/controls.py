"""The two short rows of controls above the map: method, colouring, language separation,
Compute and the search box; then the mouse tools, the all-links and contours switches."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from e5desk.gui.map.state import COLOUR_BY, METHODS, MapState
from e5desk.gui.map.tools import tool_buttons


class MapControls:
    """The widgets (set as ``state`` says) and the two rows they sit in."""

    def __init__(self, parent: QWidget, state: MapState, all_links_max: int) -> None:
        self.method = QComboBox()
        for key, label in METHODS.items():
            self.method.addItem(label, key)
        self.center = QCheckBox("Separate meaning from language")
        self.center.setToolTip("Subtract each language's mean vector before mapping, so "
                               "translations land together (language-identity switch)")
        self.center.setChecked(state.center)
        self.colour = QComboBox()
        for key, label in COLOUR_BY.items():
            self.colour.addItem(f"Colour by {label}", key)
        self.colour.setItemData(
            self.colour.findData("score"),
            "Score (cosine x 100) of every sentence to the first query typed in the Scores "
            "tab, from light (low) to dark red (high)", Qt.ItemDataRole.ToolTipRole)
        self.compute = QPushButton("Compute map")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find on the map: type a sentence in any language, Enter")
        # Small screens (1024x700): combos elide long entries, the search box shrinks.
        for combo, chars in ((self.method, 9), (self.colour, 14)):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)
        self.search.setMinimumWidth(80)
        self.top = QHBoxLayout()
        for w in (self.method, self.colour, self.center, self.compute):
            self.top.addWidget(w)
        self.top.addWidget(self.search, 1)

        self.tool_row = QHBoxLayout()
        self.tools = tool_buttons(parent, self.tool_row)  # pan/zoom (default), rect, lasso
        self.all_links = QCheckBox("All translation links")
        self.all_links.setToolTip(
            "Lines between the translations of every meaning (each member of a group to the "
            f"group's first sentence). Only for maps of up to {all_links_max:,} points: "
            "beyond that the lines hide the map; click a point to see its own links.")
        self.contours = QCheckBox("Density contours")
        self.contours.setToolTip("Lines around where the map is dense (traced in the "
                                 "background; darker: denser)")
        self.tool_row.addSpacing(12)
        self.tool_row.addWidget(self.all_links)
        self.tool_row.addWidget(self.contours)
        self.tool_row.addStretch(1)

    def read_into(self, state: MapState) -> None:
        """The state follows the controls."""
        state.method, state.colour = self.method.currentData(), self.colour.currentData()
        state.center, state.all_links = self.center.isChecked(), self.all_links.isChecked()
        state.contours = self.contours.isChecked()

    def set_from(self, state: MapState) -> None:
        """The controls follow the state (each reacts as to the user's change)."""
        method, colour, center, all_links, contours = state.method, state.colour, \
            state.center, state.all_links, state.contours  # read first: written back below
        self.method.setCurrentIndex(self.method.findData(method))
        self.colour.setCurrentIndex(self.colour.findData(colour))
        self.center.setChecked(center)
        self.all_links.setChecked(all_links)
        self.contours.setChecked(contours)
