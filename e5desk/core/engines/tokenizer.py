"""The model folder's ``tokenizer.json`` read by the ``tokenizers`` library alone, for the
fused path with a shipped graph: transformers imports torch whenever torch is installed, and
the app without torch needs neither. Answers the few calls the Encoder makes of a
transformers fast tokenizer, with the same ids (tests/test_engines.py compares them)."""

from __future__ import annotations

import json
from pathlib import Path

from e5desk.core.errors import ModelError


class GraphTokenizer:
    is_fast = True

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        try:
            self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001 - a missing or damaged file, said plainly
            raise ModelError(f"{folder / 'tokenizer.json'}: cannot be read ({exc})") from exc
        self._tok.no_padding()
        self._tok.no_truncation()
        try:
            config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
        pad = config.get("pad_token", "<pad>")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_token_id = self._tok.token_to_id(pad) if pad else None

    def __call__(self, texts, add_special_tokens: bool = True, truncation: bool = False,
                 max_length: int | None = None, **_ignored) -> dict:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        encodings = self._tok.encode_batch(batch, add_special_tokens=add_special_tokens)
        ids = []
        for e in encodings:
            seq = list(e.ids)
            if truncation and max_length and len(seq) > max_length:
                # keep the end token, as transformers' right truncation of a pair-less input
                seq = seq[: max_length - 1] + seq[-1:] if add_special_tokens else \
                    seq[:max_length]
            ids.append(seq)
        return {"input_ids": ids[0] if single else ids}

    @property
    def backend_tokenizer(self):
        """The tokenizers object, as transformers' fast tokenizers name it."""
        return self._tok

    def convert_ids_to_tokens(self, ids):
        return [self._tok.id_to_token(int(i)) for i in ids]
