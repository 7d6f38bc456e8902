"""The encoder in a child process behaves like the in-process one."""

from __future__ import annotations

import numpy as np
import pytest

from e5desk.core.encoder import Encoder
from e5desk.core.encoder_process import EncoderProcess
from e5desk.core.errors import Cancelled, ModelError


@pytest.fixture(scope="module")
def remote(tiny_model):
    enc = EncoderProcess(str(tiny_model), device="cpu")
    yield enc
    enc.close()


def test_same_vectors_and_info(remote, tiny_model):
    local = Encoder.load(str(tiny_model), device="cpu")
    texts = ["Wo ist der Bahnhof?", "駅はどこですか？", "x " * 600]
    result = remote.encode_detailed(texts, role="passage")
    assert np.abs(result.vectors - local.encode(texts, role="passage")).max() < 1e-6
    assert [t.index for t in result.truncated] == [2]
    assert remote.dim == 32 and remote.family.key == "multilingual-e5-small"
    assert "cpu" in remote.devices
    assert remote.tokenize("Bahnhof") == local.tokenize("Bahnhof")
    # Formatted inputs (what the local API server sends): no second prefix is added.
    inputs = remote.encode_inputs(remote.format(texts[:2], "passage")).vectors
    assert (inputs * result.vectors[:2]).sum(axis=1).min() > 0.9999  # other batch padding


def test_progress_and_cancel(remote):
    seen = []
    remote.encode([f"t{i}" for i in range(10)], batch_size=2,
                  progress=lambda d, t: seen.append(d))
    assert seen[-1] == 10
    with pytest.raises(Cancelled):
        remote.encode([f"text {i}" for i in range(4000)], batch_size=8,
                      cancelled=lambda: True)
    assert remote.encode(["still alive"]).shape == (1, 32)


def test_unusable_model_reports_why(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        EncoderProcess(str(tmp_path))
