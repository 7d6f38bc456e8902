"""The ASGI app of ``e5desk serve``: one local E5 model behind the hosted services' dialects.

Routes (see README, "Serving"): OpenAI ``POST /v1/embeddings`` + ``GET /v1/models``;
text-embeddings-inference ``POST /embed``, ``GET /info``, ``GET /health``; Pinecone
inference ``POST /pinecone/embed``; SambaStudio ``POST /sambastudio/predict``;
Replicate/Cog ``POST /predictions``. ``/openapi.json`` describes them and ``/docs`` is a
plain HTML page built from it (no scripts, nothing fetched from the network).

Prefixes: every route but SambaStudio (whose inputs carry their own, as in its
documentation) applies the model family's query/passage form from the request's
``input_type`` / ``prompt_name`` (default: query), and a text that already starts with a
prefix of the family (``query: ``/``passage: ``, or ``Instruct:``) is left as it is. The
role used is echoed in the ``X-E5-Input-Type`` header; ``X-E5-Truncated`` counts the texts
the model saw only part of.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from e5desk import __version__
from e5desk.core.errors import E5DeskError
from e5desk.server.batcher import Batcher, Busy, Embedded
from e5desk.server.vectors import float_row, float_rows

SAMBA_ERROR = ("Prediction could not be completed for given input due to reason "
               ":AppOnlineInferenceFailed message: error running online inference:\n"
               "Expected a Tensor with batch size <= {limit}, got batch size: {got}")


@dataclass
class ServeSettings:
    """What ``e5desk serve`` was started with."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    max_batch: int = 96  # Pinecone's limit per request
    samba_batch: int = 32  # SambaStudio's batch size, fixed at endpoint creation
    max_inputs: int = 2048  # OpenAI / TEI inputs per request (split internally)
    max_body: int = 8 * 2**20  # bytes
    cors_origins: list[str] = field(default_factory=list)
    queue: int = 256  # requests waiting for the encoder before 503


@dataclass
class Stats:
    """What the window's Serve switch shows."""

    requests: int = 0
    errors: int = 0
    last_error: str = ""


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


# -- request bodies (also the OpenAPI schemas) ---------------------------------------------
Role = Literal["query", "passage"]


class OpenAIEmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: str | list[str] = Field(description="a text or a list of texts")
    model: str = Field("e5desk", description="any name: the server has one model")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, description="refused unless equal to the model's")
    input_type: Role = Field("query", description="E5 role: the 'query: ' or 'passage: ' "
                             "form (an e5desk extension; texts already prefixed are kept)")
    task: str | None = Field(None, description="instruction for instruct models")


class TEIEmbedRequest(BaseModel):
    inputs: str | list[str]
    normalize: bool = Field(True, description="vectors are always L2-normalised")
    truncate: bool = Field(False, description="false: texts over the model's 512 tokens "
                           "are refused; true: the model sees the first 512")
    prompt_name: Role = "query"
    task: str | None = None
    parameters: dict[str, Any] | None = Field(None, description="huggingface_hub's "
                                              "InferenceClient sends normalize, prompt_name "
                                              "and truncate here; they override the fields")


class PineconeInput(BaseModel):
    text: str


class PineconeParameters(BaseModel):
    input_type: Role | None = None
    truncate: Literal["END", "NONE"] = "END"


class PineconeEmbedRequest(BaseModel):
    model: str = "multilingual-e5-large"
    inputs: list[PineconeInput]
    parameters: PineconeParameters = Field(default_factory=PineconeParameters)


class SambaRequest(BaseModel):
    inputs: list[str] = Field(description="texts with their own 'query: '/'passage: ' prefix")


class CogInput(BaseModel):
    query: str
    passage: str
    normalize: bool = Field(False, description="vectors are always L2-normalised")


class CogRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: CogInput


class AlignRequest(BaseModel):
    """Word alignment: pairs of (source, target); a side is a text (segmented as
    e5desk.align documents) or a list of words (kept as given)."""

    pairs: list[tuple[str | list[str], str | list[str]]]
    method: str | None = None
    layer: int | None = None


class ExplainRequest(BaseModel):
    """Score explanation: one query, one passage, a prefix rule (issue 25)."""

    query: str
    passage: str
    rule: str = "retrieval"
    task: str | None = None
    normalise: bool = False


# -- helpers -------------------------------------------------------------------------
def dialect(path: str) -> str:
    for prefix, name in (("/v1", "openai"), ("/pinecone", "pinecone"),
                         ("/sambastudio", "samba"), ("/predictions", "cog")):
        if path.startswith(prefix):
            return name
    return "tei"


def error_body(kind: str, status: int, message: str, param: str | None = None) -> dict:
    if kind == "openai":
        return {"error": {"message": message, "type": "invalid_request_error"
                          if status < 500 else "server_error", "param": param, "code": None}}
    if kind == "pinecone":
        code = "INVALID_ARGUMENT" if status < 500 else "UNAVAILABLE"
        return {"error": {"code": code, "message": message}, "status": status}
    if kind == "cog":
        return {"status": "failed", "error": message}
    if kind == "samba":
        return {"error": message}
    return {"error": message, "error_type": "Validation" if status < 500 else "Backend"}


def format_inputs(model, texts: list[str], role: str, task: str | None = None) -> list[str]:
    """The family's prefix / instruction for ``role``; texts already in the model's input
    form (``query: ``, ``passage: `` or ``Instruct:``) are left unchanged."""
    family = model.encoder.family
    done = ("Instruct:",) if family.instruct else (family.query_prefix, family.passage_prefix)
    todo = [i for i, t in enumerate(texts) if not t.startswith(done)]
    out = list(texts)
    for i, s in zip(todo, model.format([texts[i] for i in todo], role, task), strict=True):
        out[i] = s
    return out


def check_texts(texts: list[str], limit: int, name: str) -> None:
    if not texts:
        raise ApiError(400, f"{name} is empty: give at least one text", name)
    if len(texts) > limit:
        raise ApiError(400, f"{name} has {len(texts)} texts; at most {limit} per request", name)
    for i, t in enumerate(texts):
        if not t.strip():
            raise ApiError(400, f"{name}[{i}] is an empty text", name)
        check_unicode(t, f"{name}[{i}]", name)


def check_unicode(text: str, where: str, param: str) -> None:
    """JSON may carry lone surrogates ("\\ud800") that no tokenizer takes: a 400, not a 500."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ApiError(400, f"{where} is not valid Unicode (a lone surrogate at "
                           f"character {exc.start}): send UTF-8 text", param) from None


def too_long(model, result: Embedded) -> str | None:
    if result.truncated:
        i = result.truncated[0]
        return (f"input {i} has {int(result.tokens[i])} tokens; the model takes at most "
                f"{model.max_tokens} (ask for truncation to embed the first {model.max_tokens})")
    return None


def docs_page(spec: dict) -> str:
    """/docs without scripts or network: the OpenAPI description as plain HTML."""
    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            schema = body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            rows.append(f"<h2><code>{method.upper()} {html.escape(path)}</code></h2>"
                        f"<p><b>{html.escape(op.get('summary', ''))}</b></p>"
                        f"<p>{html.escape(op.get('description', '')).replace(chr(10), '<br>')}"
                        "</p>" + (f"<p>Body: <a href='#{schema}'>{schema}</a></p>"
                                  if schema else ""))
    schemas = [f"<h3 id='{html.escape(n)}'>{html.escape(n)}</h3><pre>"
               f"{html.escape(json.dumps(s, indent=2))}</pre>"
               for n, s in spec.get("components", {}).get("schemas", {}).items()]
    return ("<!doctype html><html><head><meta charset='utf-8'><title>e5desk serve</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{"
            "background:#f4f4f4;padding:.5em}</style></head><body>"
            f"<h1>{html.escape(spec['info']['title'])} {html.escape(spec['info']['version'])}"
            f"</h1><p>{html.escape(spec['info'].get('description', ''))}</p>"
            "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>. This page "
            "loads nothing from the network.</p>" + "".join(rows) + "<h2>Schemas</h2>"
            + "".join(schemas) + "</body></html>")


class Guard:
    """Pure ASGI middleware: bearer token (every route but /health, /docs and
    /openapi.json) and a request body limit, answering in the route's dialect."""

    OPEN = ("/health", "/docs", "/openapi.json")

    def __init__(self, app, settings: ServeSettings, stats: Stats) -> None:
        self.app, self.settings, self.stats = app, settings, stats

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        token = self.settings.token
        if path not in self.OPEN:
            self.stats.requests += 1
        if token and path not in self.OPEN:
            given = headers.get("authorization", "")
            ok = given == f"Bearer {token}" or headers.get("key") == token
            if not ok:
                return await self._refuse(scope, receive, send, 401,
                                          "missing or wrong token: send 'Authorization: "
                                          "Bearer <token>' (the token given to e5desk serve)")
        limit = self.settings.max_body
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(scope, receive, send, 413,
                                      f"request body of {int(length)} bytes is over the "
                                      f"{limit}-byte limit")
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > limit:
                    return await self._refuse(scope, receive, send, 413,
                                              f"request body is over the {limit}-byte limit")
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            return await self.app(scope, replay, send)
        return await self.app(scope, receive, send)

    async def _refuse(self, scope, receive, send, status: int, message: str):
        self.stats.errors += 1
        self.stats.last_error = message
        response = JSONResponse(error_body(dialect(scope.get("path", "")), status, message),
                                status_code=status,
                                headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
        await response(scope, receive, send)


def create_app(settings: ServeSettings | None = None, model=None,
               load: Callable[[], Any] | None = None) -> FastAPI:
    """The ASGI app. ``model``: an :class:`e5desk.api.Model` already loaded, or ``load``:
    a function returning one (called on first use, in the encoder thread)."""
    settings = settings or ServeSettings()
    if model is None and load is None:
        from e5desk.api import load_model

        load = load_model
    batcher = Batcher(load or (lambda: model), max_pending=settings.queue)
    stats = Stats()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        batcher.stop()

    app = FastAPI(
        title="e5desk serve", version=__version__, lifespan=lifespan,
        docs_url=None, redoc_url=None,
        description="A local E5 embedding API, offline, in the dialects of OpenAI, "
        "text-embeddings-inference, Pinecone inference, SambaStudio and Replicate. "
        "Vectors are float32, L2-normalised; scores are cosine x 100.")
    app.state.batcher, app.state.settings, app.state.stats = batcher, settings, stats

    def fail(kind: str, status: int, message: str, param: str | None = None) -> JSONResponse:
        stats.errors += 1
        stats.last_error = message
        return JSONResponse(error_body(kind, status, message, param), status_code=status)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return fail(dialect(request.url.path), exc.status, exc.message, exc.param)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        kind = dialect(request.url.path)
        status = 422 if kind in ("tei", "cog") else 400
        return fail(kind, status, "invalid request: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return fail(dialect(request.url.path), exc.status_code, str(exc.detail))

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return fail(dialect(request.url.path), 503, str(exc))

    @app.exception_handler(E5DeskError)
    async def _model_error(request: Request, exc: E5DeskError):
        return fail(dialect(request.url.path), 503, f"the model cannot be used: {exc}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        return fail(dialect(request.url.path), 500,
                    f"internal error ({type(exc).__name__}); see the server log")

    async def run(texts: list[str], role: str, task: str | None = None):
        if task:
            check_unicode(task, "task", "task")
        m = await batcher.model_async()
        inputs = format_inputs(m, texts, role, task) if role != "raw" else texts
        return m, await batcher.embed(inputs)

    def headers(role: str, result: Embedded) -> dict[str, str]:
        return {"X-E5-Input-Type": role, "X-E5-Truncated": str(len(result.truncated))}

    # -- OpenAI ---------------------------------------------------------------------
    @app.post("/v1/embeddings", summary="OpenAI embeddings",
              description="input: a text or a list (up to max_inputs, split internally); "
              "input_type query|passage picks the E5 form (default query); encoding_format "
              "float|base64 (float32 little-endian); dimensions is refused unless equal to "
              "the model's (E5 has fixed dimensions).")
    async def openai_embeddings(body: OpenAIEmbeddingRequest):
        texts = [body.input] if isinstance(body.input, str) else body.input
        check_texts(texts, settings.max_inputs, "input")
        m = await batcher.model_async()
        if body.dimensions is not None and body.dimensions != m.dim:
            raise ApiError(400, f"dimensions={body.dimensions} is not supported: {m.name} "
                           f"has a fixed {m.dim} dimensions (omit the field)", "dimensions")
        m, result = await run(texts, body.input_type, body.task)
        if body.encoding_format == "base64":
            vecs = [base64.b64encode(v.astype("<f4").tobytes()).decode("ascii")
                    for v in result.vectors]
        else:
            vecs = float_rows(result.vectors)
        tokens = int(result.tokens.sum())
        return JSONResponse(
            {"object": "list", "model": m.name,
             "data": [{"object": "embedding", "index": i, "embedding": v}
                      for i, v in enumerate(vecs)],
             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}},
            headers=headers(body.input_type, result))

    @app.get("/v1/models", summary="OpenAI model list (the one model served)")
    async def openai_models():
        m = await batcher.model_async()
        return {"object": "list", "data": [{"id": m.name, "object": "model", "created": 0,
                                            "owned_by": "e5desk"}]}

    # -- text-embeddings-inference ------------------------------------------------------
    @app.post("/embed", summary="text-embeddings-inference embed",
              description="inputs: a text or a list -> a list of vectors. prompt_name "
              "query|passage (default query); truncate false refuses texts over 512 tokens.")
    async def tei_embed(body: TEIEmbedRequest):
        if body.parameters:
            try:
                body = TEIEmbedRequest.model_validate({
                    **body.model_dump(exclude={"parameters"}),
                    **{k: v for k, v in body.parameters.items() if v is not None}})
            except ValueError as exc:
                raise ApiError(422, f"invalid parameters: {exc}", "parameters") from None
        texts = [body.inputs] if isinstance(body.inputs, str) else body.inputs
        check_texts(texts, settings.max_inputs, "inputs")
        m, result = await run(texts, body.prompt_name, body.task)
        if not body.truncate and (message := too_long(m, result)):
            raise ApiError(413, message, "inputs")
        return JSONResponse(float_rows(result.vectors),
                            headers=headers(body.prompt_name, result))

    @app.get("/info", summary="model and limits (text-embeddings-inference shape)")
    async def tei_info():
        m = await batcher.model_async()
        family = m.encoder.family
        return {"model_id": m.name, "model_sha": None, "model_dtype": str(m.encoder.dtype)
                .replace("torch.", ""), "model_type": {"embedding": {"pooling": "mean"}},
                "dimensions": m.dim, "max_input_length": m.max_tokens,
                "max_client_batch_size": settings.max_inputs,
                "max_concurrent_requests": settings.queue,
                "prompts": {"query": family.query_prefix, "passage": family.passage_prefix}
                if not family.instruct else {"query": "Instruct: {task}\\nQuery: ",
                                             "passage": ""},
                "pinecone_max_batch": settings.max_batch,
                "sambastudio_batch_size": settings.samba_batch,
                "version": __version__, "runs_on": m.encoder.describe()}

    @app.get("/health", summary="liveness (no token needed)")
    async def health():
        return {"status": "ok", "model_loaded": batcher.loaded}

    # -- Pinecone -------------------------------------------------------------------------
    @app.post("/pinecone/embed", summary="Pinecone inference embed",
              description="inputs [{text}], parameters.input_type query|passage (required), "
              "truncate END|NONE; at most --max-batch (96) inputs.")
    async def pinecone_embed(body: PineconeEmbedRequest):
        if body.parameters.input_type is None:
            raise ApiError(400, "parameters.input_type is required for E5 models: 'query' "
                           "or 'passage'")
        texts = [x.text for x in body.inputs]
        if len(texts) > settings.max_batch:
            raise ApiError(400, f"batch size exceeds the limit: {len(texts)} inputs, at most "
                           f"{settings.max_batch} per request")
        check_texts(texts, settings.max_batch, "inputs")
        m, result = await run(texts, body.parameters.input_type)
        if body.parameters.truncate == "NONE" and (message := too_long(m, result)):
            raise ApiError(400, message)
        return JSONResponse(
            {"model": m.name, "vector_type": "dense",
             "data": [{"vector_type": "dense", "values": v} for v in float_rows(result.vectors)],
             "usage": {"total_tokens": int(result.tokens.sum())}},
            headers=headers(body.parameters.input_type, result))

    # -- SambaStudio ------------------------------------------------------------------------
    @app.post("/sambastudio/predict", summary="SambaStudio E5 endpoint",
              description="inputs: texts with their own 'query: '/'passage: ' prefix (none "
              "is added) -> data: vectors; the batch size is fixed by --samba-batch.")
    async def samba_predict(body: SambaRequest):
        if len(body.inputs) > settings.samba_batch:
            raise ApiError(400, SAMBA_ERROR.format(limit=settings.samba_batch,
                                                   got=len(body.inputs)))
        check_texts(body.inputs, settings.samba_batch, "inputs")
        _, result = await run(body.inputs, "raw")
        return JSONResponse({"data": float_rows(result.vectors)}, headers=headers("raw", result))

    # -- Replicate / Cog -------------------------------------------------------------------
    @app.post("/predictions", summary="Replicate/Cog prediction: query + passage",
              description="output: query_embedding ('query: ' form), passage_embedding "
              "('passage: ' form) and relevancy_score = cosine x 100.")
    async def cog_predict(body: CogRequest):
        q, p = body.input.query, body.input.passage
        check_texts([q, p], 2, "input")
        m = await batcher.model_async()
        inputs = format_inputs(m, [q], "query") + format_inputs(m, [p], "passage")
        result = await batcher.embed(inputs)
        qv, pv = result.vectors
        return {"status": "succeeded", "output": {
            "query_embedding": float_row(qv), "passage_embedding": float_row(pv),
            "relevancy_score": float(qv @ pv) * 100}}

    # -- word alignment (issue 25) --------------------------------------------------------
    @app.post("/v1/align", summary="word alignment of sentence pairs",
              description="pairs: [[source, target], ...] (a side is a text or a list of "
              "words, kept as given); method and layer as `e5desk align` (default: the "
              "measured best). data[i]: src_words, tgt_words, links [[i, j, score]], "
              "pharaoh, unaligned_src, unaligned_tgt.")
    async def align(body: AlignRequest):
        from e5desk.workflows.pair import AlignSettings, InputError, align, check_pairs

        chosen = AlignSettings(body.method, body.layer)
        try:
            if not body.pairs:
                check_pairs(body.pairs)  # says that it is empty
            if len(body.pairs) > settings.max_inputs // 2:
                raise ApiError(400, f"pairs has {len(body.pairs)} pairs; at most "
                               f"{settings.max_inputs // 2} per request", "pairs")
            chosen.checked_method()
            for n, pair in enumerate(body.pairs):
                for k, side in enumerate(pair):
                    for w in [side] if isinstance(side, str) else side:
                        check_unicode(w, f"pairs[{n}][{k}]", "pairs")
            check_pairs(body.pairs)  # words and empty sides, before the model runs
            m = await batcher.model_async()
            chosen.checked_layer(m.encoder)
        except InputError as exc:
            raise ApiError(400, str(exc), exc.field) from None
        found = await batcher.call(lambda model: align(model.encoder, body.pairs, chosen))
        return {"model": m.name, "method": found.method, "layers": found.layers,
                "data": [{**a.to_dict(), "pharaoh": a.pharaoh()} for a in found.pairs]}

    # -- score explanation (issue 25) ------------------------------------------------------
    @app.post("/v1/explain", summary="each word's share of a query–passage score",
              description="query, passage, rule (retrieval|symmetric|none, default "
              "retrieval), normalise: the score (cosine x 100) and per word its share = "
              "score minus the score with that word deleted (+ pushes up), as `e5desk "
              "explain`.")
    async def explain(body: ExplainRequest):
        from e5desk.core.prefix_rules import prefix_rule
        from e5desk.workflows.pair import ExplainSettings, InputError, check_side, explain

        try:
            for name in ("query", "passage"):
                check_unicode(getattr(body, name), name, name)
                check_side(getattr(body, name), name)
            prefix_rule(body.rule)
        except InputError as exc:
            raise ApiError(400, str(exc), exc.field) from None
        except E5DeskError as exc:
            raise ApiError(400, str(exc), "rule") from None
        m = await batcher.model_async()
        chosen = ExplainSettings(body.rule, body.task, body.normalise)
        e = await batcher.call(lambda model: explain(model.encoder, body.query, body.passage,
                                                     chosen))
        return {"model": m.name, **e.to_dict()}

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs():
        return HTMLResponse(docs_page(app.openapi()))

    app.openapi_schema = None
    app.add_middleware(Guard, settings=settings, stats=stats)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "key"])
    return app
