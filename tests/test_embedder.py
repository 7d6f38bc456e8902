"""One Embedder interface (core/embedder.py) for the three model objects a workflow gets:
Encoder, EncoderProcess (the window's child process) and e5desk.Model."""

import inspect

from e5desk.core.embedder import Embedder
from e5desk.core.encoder_process import EncoderProcess

METHODS = ("encode", "encode_detailed", "format", "token_states")


def _params(fn) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def test_encoder_and_api_model_are_embedders(real_encoder):
    import e5desk

    model = e5desk.Model(real_encoder)
    for obj in (real_encoder, model):
        assert isinstance(obj, Embedder), type(obj)
        assert (obj.dim, obj.max_tokens, obj.model_id) == \
            (real_encoder.dim, real_encoder.max_tokens, real_encoder.model_id)


def test_every_implementation_takes_the_protocol_arguments_in_order():
    from e5desk.api import Model
    from e5desk.core.encoder import Encoder

    for cls in (Encoder, EncoderProcess, Model):
        for name in METHODS:
            wanted = _params(getattr(Embedder, name))
            assert _params(getattr(cls, name))[: len(wanted)] == wanted, (cls, name)
