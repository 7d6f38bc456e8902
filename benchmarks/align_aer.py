"""Alignment error rate of every method x layer on the hand-made gold sets.

    python benchmarks/align_aer.py [--model PATH] [--pairs en-de en-ja ...] [--detail]

Gold: benchmarks/data/align/<pair>.src-tgt + <pair>.gold (sure links only; built by
benchmarks/align_gold.py). AER = 1 - 2|A∩S| / (|A| + |S|) (with sure links only, the
Och & Ney formula reduces to 1 - F1). The model's hidden states of all layers are computed
once per pair set; then each (layer, method) is scored. Besides the table it prints:
- the model reading pre-segmented Japanese/Chinese with the spaces it was given, against
  reading it as natural text (the module's choice);
- the "query: " prefix against no prefix;
- raw (unsegmented) Japanese/Chinese: the module's own segmentation, links projected onto
  the gold words by character overlap, against splitting into the model's pieces.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from e5desk.core import align as A  # noqa: E402

DATA = Path(__file__).parent / "data" / "align"
METHODS = list(A.METHODS)


def read_gold(name: str):
    pairs, gold = [], []
    for line in (DATA / f"{name}.src-tgt").read_text(encoding="utf-8").splitlines():
        src, tgt = line.split("|||")
        pairs.append((src.split(), tgt.split()))
    for line in (DATA / f"{name}.gold").read_text(encoding="utf-8").splitlines():
        gold.append({tuple(map(int, x.split("-"))) for x in line.split()})
    return pairs, gold


def aer(found: list[set], gold: list[set]) -> float:
    hit = sum(len(a & s) for a, s in zip(found, gold, strict=True))
    size = sum(len(a) + len(s) for a, s in zip(found, gold, strict=True))
    return 1.0 - 2.0 * hit / size if size else 0.0


def states_for(encoder, prepared, layers, role="raw"):
    texts = [s.text for pair in prepared for s in pair]
    return encoder.token_states(texts, layers=layers, role=role)


def at_layer(states, k):
    return replace(states, states=states.states[k : k + 1])


def at_layers(states, layers, pick):
    return [replace(x, states=x.states[[layers.index(p) for p in pick]]) for x in states]


def run_grid(prepared, states, layers, methods, **knobs) -> dict[tuple[int, str], list[set]]:
    out = {}
    for k, layer in enumerate(layers):
        vecs = []
        for n, (src, tgt) in enumerate(prepared):
            vecs.append((A.word_vectors(src, at_layer(states[2 * n], k)),
                         A.word_vectors(tgt, at_layer(states[2 * n + 1], k))))
        for m in methods:
            out[layer, m] = [
                {(i, j) for i, j, _ in A.align_vectors(sw, tw, sv, tv, m, **knobs).links}
                for (sw, sv), (tw, tv) in vecs]
    return out


def spaced(prepared):
    """The same words, read by the model with a space between every two words."""
    out = []
    for pair in prepared:
        sides = []
        for side in pair:
            words = [side.text[a:b] for a, b in side.spans]
            text, spans = " ".join(words), []
            pos = 0
            for w in words:
                spans.append((pos, pos + len(w)))
                pos += len(w) + 1
            sides.append(A._Prepared(text, spans, None))
        out.append(tuple(sides))
    return out


def project(found: list[set], prepared_raw, gold_prepared) -> list[set]:
    """Links between raw-segmented target words -> links between gold target words, by
    the characters they share (spaces do not count)."""
    out = []
    for links, (_, raw), (_, ref) in zip(found, prepared_raw, gold_prepared, strict=True):
        def visible(text, spans):
            pos = np.cumsum([not c.isspace() for c in text]) - 1  # index among non-spaces
            return [(pos[a], pos[b - 1] + 1) for a, b in spans]

        ref_spans = visible(ref.text, ref.spans)
        raw_spans = visible(raw.text, raw.spans)
        proj = set()
        for i, j in links:
            a, b = raw_spans[j]
            proj |= {(i, g) for g, (s, e) in enumerate(ref_spans) if s < b and e > a}
        out.append(proj)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--pairs", nargs="*", default=None)
    ap.add_argument("--detail", action="store_true", help="every layer, not a selection")
    args = ap.parse_args()
    from e5desk.core.encoder import Encoder

    encoder = Encoder.load(args.model, device="cpu", precision="exact", cache=False)
    depth = int(encoder._model.config.num_hidden_layers)
    layers = list(range(depth + 1))
    names = args.pairs or sorted(p.stem for p in DATA.glob("*.gold"))
    table: dict[str, dict] = {}
    extra: dict[str, dict] = {}
    started = time.perf_counter()
    for name in names:
        pairs, gold = read_gold(name)
        prepared = A.prepare(pairs)
        st = states_for(encoder, prepared, layers)
        grid = run_grid(prepared, st, layers, METHODS)
        table[name] = {key: aer(found, gold) for key, found in grid.items()}
        e = extra[name] = {}
        dl = list(A.DEFAULT_LAYERS)
        mean_states = [replace(x, states=x.states[dl].mean(0, keepdims=True)) for x in st]
        for m in METHODS:
            e[f"layers {dl[0]}-{dl[-1]} (mean) {m}"] = aer(
                run_grid(prepared, mean_states, [0], [m])[0, m], gold)
        L, M = A.DEFAULT_LAYER, A.DEFAULT_METHOD
        sq = states_for(encoder, prepared, [L], role="query")
        e["query: prefix"] = aer(run_grid(prepared, sq, [L], [M])[L, M], gold)
        for tau, thr in ((0.03, 0.2), (0.05, 0.1), (0.05, 0.3), (0.1, 0.2), (0.1, 0.3)):
            for layer in (4, 6, 8):
                g = run_grid(prepared, at_layers(st, layers, [layer]), [layer], ["softmax"],
                             temperature=tau, threshold=thr)
                e[f"softmax tau {tau} threshold {thr} layer {layer}"] = aer(
                    g[layer, "softmax"], gold)
        if any(A._is_unspaced(c) for s, t in pairs[:3] for c in "".join(t)):
            joined = [(s, "".join(t)) for s, t in pairs]
            for spaced_raw in (True, False):
                raw = A.prepare(joined, spaced=spaced_raw)
                found = run_grid(raw, states_for(encoder, raw, [L]), [L], [M])[L, M]
                e[f"raw text segmented, read {'with' if spaced_raw else 'without'} "
                  "spaces"] = aer(project(found, raw, prepared), gold)
    print(f"# {encoder.describe()}; {time.perf_counter() - started:.0f} s", file=sys.stderr)
    show = layers if args.detail else [x for x in layers if x >= 4]
    print("AER (sure links; lower is better)")
    head = "layer method   " + " ".join(f"{n:>7}" for n in names) + "    mean"
    print(head)
    best = None
    for layer in show:
        for m in METHODS:
            row = [table[n][layer, m] for n in names]
            mean = float(np.mean(row))
            if best is None or mean < best[0]:
                best = (mean, layer, m)
            print(f"{layer:>5} {m:<8} " + " ".join(f"{x:7.3f}" for x in row) + f" {mean:7.3f}")
    print(f"best single layer (mean over pairs): layer {best[1]} {best[2]} ({best[0]:.3f})")
    dl = A.DEFAULT_LAYERS
    key = f"layers {dl[0]}-{dl[-1]} (mean) {A.DEFAULT_METHOD}"
    chosen = [extra[n][key] for n in names]
    base = [table[n][6, "argmax"] for n in names]
    print(f"\nmodule default, {key}: " + " ".join(f"{x:7.3f}" for x in chosen)
          + f" {np.mean(chosen):7.3f}")
    print("baseline, layer 6 argmax:      " + " ".join(f"{x:7.3f}" for x in base)
          + f" {np.mean(base):7.3f}")
    print("default beats the baseline on every pair:",
          all(c < b for c, b in zip(chosen, base, strict=True)))
    print(f"\nvariants (layer {A.DEFAULT_LAYER}, {A.DEFAULT_METHOD} unless named):")
    for name in names:
        for k, v in extra[name].items():
            base = table[name][A.DEFAULT_LAYER, A.DEFAULT_METHOD]
            print(f"  {name}: {k}: {v:.3f} (default {base:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
