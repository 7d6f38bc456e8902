"""The map owns the window while its tab is shown: the window's docks step aside (and come
back as they were on leaving), and F11 or a button puts the map alone on the whole screen."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QStackedWidget, QTabWidget, QToolButton


class OwnsWindow:
    """Mixed into the map's QWidget (before QWidget): call ``_full_screen_switch`` once
    and ``_own_window`` from showEvent."""

    _hidden_docks: list
    _full_screen_state: dict | None
    full_screen_button: QToolButton

    def _full_screen_switch(self) -> QToolButton:
        """The Full screen button (and F11)."""
        self._hidden_docks = []  # docks put away while the map owns the window
        self._full_screen_state = None
        self._watching_close = False
        button = QToolButton()
        button.setText("Full screen")
        button.setCheckable(True)
        button.setToolTip("The map alone on the whole screen (F11)")
        button.toggled.connect(self.set_full_screen)
        shortcut = QShortcut(QKeySequence("F11"), self)
        shortcut.activated.connect(button.toggle)
        self.full_screen_button = button
        return button

    def _docks(self) -> list:
        window = self.window()
        return [d for d in window.findChildren(QDockWidget) if d.parent() is window]

    def _put_docks_away(self) -> None:
        """While the Map tab is shown, the window's docks (model panel, sentence table)
        step aside so the plot gets the room; they come back as they were on leaving."""
        if self._hidden_docks:
            return
        self._hidden_docks = [d for d in self._docks() if d.isVisible() and not d.isFloating()]
        for dock in self._hidden_docks:
            dock.hide()

    def _bring_docks_back(self) -> None:
        if self._full_screen_state is not None:
            return
        docks, self._hidden_docks = self._hidden_docks, []
        for dock in docks:
            dock.show()

    def _own_window(self) -> None:
        window = self.window()
        if window is not self and not self._watching_close:
            window.installEventFilter(self)  # docks back before the window saves its state
            self._watching_close = True
        self._put_docks_away()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Close and obj is self.window():
            if self._full_screen_state is not None:
                self.set_full_screen(False)
            self._bring_docks_back()
        return False

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        if not self.window().isMinimized():
            self._bring_docks_back()

    def set_full_screen(self, on: bool) -> None:
        """The map alone on the screen (F11 or the button toggles): window full screen,
        docks, menus, tabs and status bar hidden; all restored when toggled off."""
        window = self.window()
        if on == (self._full_screen_state is not None) or window is self:
            return
        tabs = self.parent().parent() if isinstance(self.parent(), QStackedWidget) else None
        bars = [w for w in (getattr(window, "menuBar", None), getattr(window, "statusBar",
                                                                      None)) if w]
        if on:
            self._put_docks_away()
            widgets = [b() for b in bars]
            if isinstance(tabs, QTabWidget):
                widgets.append(tabs.tabBar())
            self._full_screen_state = {"widgets": [w for w in widgets if w.isVisible()],
                                       "maximized": window.isMaximized(),
                                       "full": window.isFullScreen()}
            for w in self._full_screen_state["widgets"]:
                w.hide()
            window.showFullScreen()
        else:
            state, self._full_screen_state = self._full_screen_state, None
            for w in state["widgets"]:
                w.show()
            if not state["full"]:
                window.showMaximized() if state["maximized"] else window.showNormal()
        self.full_screen_button.setChecked(on)
        self.full_screen_button.setText("Exit full screen" if on else "Full screen")
