"""Loading and storage at scale, each case in a fresh process (so peak memory is its own).

- load a generated 1M-line text file (``lang<TAB>text``, so no language detection) and
  the same without languages (detection runs on the first 200k rows only);
- load a generated 200k-unit TMX (2 languages per unit);
- embedding cache: insert 1M vectors (384-d), then look up 100k cached texts;
- project: save and open 100k sentences x 384 dims.

    .venv/bin/python benchmarks/store_and_load.py [--quick] [--only text|tmx|cache|project]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

WORDS = ("the train leaves at nine and the station is near the old market where people buy "
         "fresh bread fish coffee tea milk every morning before work").split()


def make_text(path: Path, n: int, with_lang: bool) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(WORDS), size=(n, 9))
    with path.open("w", encoding="utf-8") as f:
        for i, row in enumerate(picks):
            sentence = " ".join(WORDS[j] for j in row) + f" {i}."
            f.write(f"en\t{sentence}\n" if with_lang else sentence + "\n")


def make_tmx(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header '
                'srclang="en" datatype="plaintext" segtype="sentence" adminlang="en" '
                'creationtool="bench" creationtoolversion="1" o-tmf="none"/><body>\n')
        for i in range(n):
            f.write(f'<tu tuid="{i}"><tuv xml:lang="en"><seg>Where is the station number '
                    f'{i}?</seg></tuv><tuv xml:lang="de"><seg>Wo ist der Bahnhof Nummer '
                    f'{i}?</seg></tuv></tu>\n')
        f.write("</body></tmx>\n")


CHILD = textwrap.dedent("""
    import json, resource, sys, time
    case, path = sys.argv[1], sys.argv[2]
    import numpy, e5desk.core.data, e5desk.core.langid, e5desk.core.store.project  # noqa
    if case == "load" and path.endswith("plain.txt"):
        e5desk.core.langid._identifier()  # a fixed ~105 MB, not a cost of the file
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {}
    if case == "load":
        from e5desk.core.data import load_sentence_set
        t = time.perf_counter()
        r = load_sentence_set(path)
        out["seconds"] = time.perf_counter() - t
        out["rows"] = len(r.sentence_set)
        out["skipped"] = len(r.problems())
    elif case == "cache":
        import numpy as np
        from e5desk.core.store.cache import EmbeddingCache
        n, dim = int(sys.argv[3]), 384
        cache = EmbeddingCache(path, max_bytes=1 << 40)
        texts = [f"query: sentence number {i}" for i in range(n)]
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for s in range(0, n, 50_000):
            cache.put_many("m", texts[s:s + 50_000],
                           rng.random((min(50_000, n - s), dim), dtype=np.float32))
        out["insert_seconds"] = time.perf_counter() - t
        look = texts[::max(1, n // 100_000)][:100_000]
        t = time.perf_counter()
        found = cache.get_many("m", look, dim)
        out["lookup_100k_seconds"] = time.perf_counter() - t
        out["found"] = len(found)
        out["db_mb"] = cache.size_bytes() / 2**20
    elif case == "project":
        import numpy as np
        from e5desk.core.data import SentenceSet
        from e5desk.core.store.project import Embedding, Project, load_project, save_project
        n = int(sys.argv[3])
        s = SentenceSet.build([f"sentence {i} about trains" for i in range(n)],
                              lang=["en"] * n, group=[str(i) for i in range(n)])
        v = np.random.default_rng(0).random((n, 384), dtype=np.float32)
        p = Project(sets=[s], embeddings={"q": Embedding("m", "query", None, v)},
                    arrays={"map": (v[:, :2].copy(), {"method": "umap"})})
        t = time.perf_counter()
        save_project(p, path)
        out["save_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        q = load_project(path)
        out["open_seconds"] = time.perf_counter() - t
        out["equal"] = bool(np.array_equal(q.embeddings["q"].vectors, v))
        import os
        out["file_mb"] = os.path.getsize(path) / 2**20
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["base_rss_mb"] = base / 1024
    print(json.dumps(out))
""")


def child(*args) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    run = lambda case: only in (None, case)  # noqa: E731
    n_text, n_tmx, n_cache, n_proj = ((100_000, 20_000, 100_000, 10_000) if quick
                                      else (1_000_000, 200_000, 1_000_000, 100_000))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, with_lang in (("lang-tab", True), ("plain", False)) if run("text") else ():
            path = tmp / f"{name}.txt"
            make_text(path, n_text, with_lang)
            mb = path.stat().st_size / 2**20
            r = child("load", path)
            print(f"text {name:8s} {n_text:,} lines, {mb:.0f} MB: {r['seconds']:.2f} s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB (after imports {r['base_rss_mb']:.0f} "
                  f"MB; growth {(r['peak_rss_mb'] - r['base_rss_mb']) / mb:.2f}x the file)")
        if run("tmx"):
            tmx(tmp / "units.tmx", n_tmx)
        if run("cache"):
            r = child("cache", tmp / "cache.sqlite", n_cache)
            print(f"cache: insert {n_cache:,} x 384: {r['insert_seconds']:.1f} s; look up "
                  f"100k cached: {r['lookup_100k_seconds']:.2f} s ({r['found']:,} found); "
                  f"db {r['db_mb']:.0f} MB")
        if run("project"):
            r = child("project", tmp / "p.e5desk", n_proj)
            print(f"project {n_proj:,} x 384: save {r['save_seconds']:.2f} s, open "
                  f"{r['open_seconds']:.2f} s, file {r['file_mb']:.0f} MB, equal={r['equal']}")


def tmx(path: Path, n_tmx: int) -> None:
    make_tmx(path, n_tmx)
    mb = path.stat().st_size / 2**20
    r = child("load", path)
    print(f"tmx {n_tmx:,} units ({r['rows']:,} rows), {mb:.0f} MB: {r['seconds']:.2f} s, "
          f"peak RSS {r['peak_rss_mb']:.0f} MB "
          f"(growth {(r['peak_rss_mb'] - r['base_rss_mb']) / mb:.2f}x the file)")


if __name__ == "__main__":
    main()
