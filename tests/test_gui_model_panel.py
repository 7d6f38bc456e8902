"""The model panel offers exactly the device and precision choices of the CLI."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest


def _cli_choices(command: str, option: str) -> list[str]:
    from e5desk.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices[command]
    action = next(a for a in parser._actions if option in a.option_strings)
    return [str(c) for c in action.choices]


def _items(box) -> list[str]:
    return [box.itemData(i) for i in range(box.count())]


@pytest.fixture
def panel(qtbot):
    from e5desk.gui.model_panel import ModelPanel
    from e5desk.gui.session import Session
    from e5desk.gui.workers import JobRunner

    session = Session(JobRunner())
    view = ModelPanel(session)
    qtbot.addWidget(view)
    return view


def test_combo_items_are_the_cli_choices(panel):
    from e5desk.core.options import DEVICE_CHOICES, PRECISION_CHOICES

    for command in ("embed", "score", "serve"):
        assert _items(panel.device) == _cli_choices(command, "--device")
        assert _items(panel.precision) == _cli_choices(command, "--precision")
    # The help the CLI prints is the tooltip of each item.
    assert panel.precision.itemData(0, 0x0003) == PRECISION_CHOICES[0].help
    assert panel.device.itemData(2, 0x0003) == DEVICE_CHOICES[2].help
    assert panel.device.currentData() == "auto" and panel.precision.currentData() == "auto"


def test_devices_the_machine_lacks_are_greyed_not_removed(panel, monkeypatch):
    panel.session.encoder = SimpleNamespace(devices=["cpu", "cuda:0"])
    panel._mark_devices()
    items = panel.device.model()
    enabled = {panel.device.itemData(i): items.item(i).isEnabled()
               for i in range(panel.device.count())}
    assert enabled == {"auto": True, "cpu": True, "cuda": True, "mps": False}
    assert "not available here" in panel.device.itemData(3, 0x0003)
    asked = {}
    monkeypatch.setattr(panel.session, "load_model",
                        lambda spec, device, precision, **_: asked.update(
                            device=device, precision=precision))
    panel.device.setCurrentIndex(2)
    panel.precision.setCurrentIndex(1)
    panel.load_selected()
    assert asked == {"device": "cuda", "precision": "exact"}
