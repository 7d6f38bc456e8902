"""`e5desk serve`: the model behind a local HTTP API in the hosted services' dialects
(OpenAI, text-embeddings-inference, Pinecone, SambaStudio, Replicate); see README."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from e5desk.commands._common import add_model_options, positive_int
from e5desk.core.errors import E5DeskError

LOOPBACK = ("localhost",)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="local embedding API (OpenAI, TEI, Pinecone, SambaStudio, Replicate)",
        description="Serve the model over HTTP on this machine, offline: POST /v1/embeddings "
        "(OpenAI), /embed + /info + /health (text-embeddings-inference), /pinecone/embed, "
        "/sambastudio/predict, /predictions (Replicate/Cog). OpenAPI at /openapi.json, "
        "docs at /docs. The model loads on the first request.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other needs --token)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--token", default=os.environ.get("E5DESK_SERVE_TOKEN"),
                   help="require 'Authorization: Bearer TOKEN' on every route but /health "
                   "(default: $E5DESK_SERVE_TOKEN)")
    p.add_argument("--max-batch", type=positive_int, default=96, metavar="N",
                   help="Pinecone route: most inputs per request (default 96, as Pinecone)")
    p.add_argument("--samba-batch", type=int, choices=[1, 32], default=32,
                   help="SambaStudio route: the endpoint's fixed batch size (default 32)")
    p.add_argument("--max-inputs", type=positive_int, default=2048, metavar="N",
                   help="OpenAI / TEI routes: most texts per request (split internally)")
    p.add_argument("--max-body-mb", type=positive_int, default=8, metavar="MB",
                   help="largest request body (default 8 MB)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="allow browser pages from ORIGIN (repeatable; default: CORS off)")
    add_model_options(p)
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    if not is_loopback(args.host) and not args.token:
        raise E5DeskError(f"--host {args.host} would let other machines use the model: give "
                          "--token (or E5DESK_SERVE_TOKEN), or keep the default 127.0.0.1")
    if not 0 < args.port < 65536:
        raise E5DeskError(f"--port {args.port}: expected 1 to 65535")
    if args.model_engine in ("onnxruntime", "openvino"):  # say it now, not at the 1st request
        from e5desk.core.engines.runtimes import require

        require(args.model_engine)
    try:
        import uvicorn

        from e5desk.server import ServeSettings, create_app
    except ImportError as exc:
        raise E5DeskError(f"e5desk serve needs the 'serve' extra ({exc.name} is missing): "
                          "pip install 'e5desk[serve]'") from None
    from e5desk.api import load_model

    def load():
        model = load_model(args.model, family=args.family, device=args.device,
                           precision=args.precision, threads=args.threads,
                           long_text=args.long_text, batch_size=args.batch_size,
                           cache=args.cache, engine=args.model_engine)
        print(f"e5desk: serving {model.encoder.describe()}", file=sys.stderr)
        return model

    settings = ServeSettings(host=args.host, port=args.port, token=args.token,
                             max_batch=args.max_batch, samba_batch=args.samba_batch,
                             max_inputs=args.max_inputs, max_body=args.max_body_mb * 2**20,
                             cors_origins=args.cors_origin)
    app = create_app(settings, load=load)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"e5desk: listening on http://{shown}:{args.port} (docs: /docs; "
          f"{'token required' if args.token else 'no token'}; Ctrl+C stops)", file=sys.stderr)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except OSError as exc:
        raise E5DeskError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return 0
