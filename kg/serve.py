"""A SPARQL 1.1 Protocol endpoint over a kg store, read-only unless asked, with a small home page.

Routes:

- ``/sparql``: queries by GET ``?query=``, POST form ``query=`` or POST ``application/sparql-query``;
  ``default-graph-uri`` / ``named-graph-uri`` pick the dataset (without them the default graph is the
  union of all graphs, as in ``kg query``, and our prefixes are predeclared). The answer's format comes from
  the Accept header or ``format=`` (json, xml, csv, tsv for SELECT/ASK; turtle, ntriples, jsonld, trig,
  nquads, rdfxml for CONSTRUCT/DESCRIBE; or a media type); 406 when nothing offered fits.
  Updates (``update=`` or ``application/sparql-update``) are refused with 403 unless ``allow_update``.
- ``/store`` (only with ``allow_update``): the SPARQL 1.1 Graph Store HTTP Protocol, ``?graph=IRI`` or
  ``?default`` (the store's own default graph, not the union), GET/HEAD, PUT, POST, DELETE.
- ``/health``: ``{"status": "ok", "quads": N, "articles": N}``.
- ``/endpoint``: the store's figures and a plain query form.
- ``/`` and the rest: the browser UI (``kg.ui``): query page, entity, article and claims pages, JSON API.

Limits. Each query runs in a worker thread and its results are read there row by row with a deadline
check between rows: past ``timeout`` seconds the worker stops and the client gets 503. Oxigraph evaluates
lazily, so this stops a large join between two rows. What it cannot stop (pyoxigraph has no cancellation)
is one row's computation that itself takes long: an ORDER BY, GROUP BY or aggregate over a large join, a
FILTER that rejects everything, an ASK that finds nothing. The client still gets 503 at the deadline, but
that thread runs on (using CPU, and memory for a sort) until Oxigraph yields its row. It keeps its slot
meanwhile: at most ``workers`` queries run at once, runaways included, and a request that finds no free
slot before its deadline gets 503 "busy". Restarting the server is the only way to kill a runaway.
A SELECT answers at most ``max_rows`` rows and a CONSTRUCT/DESCRIBE at most ``max_rows`` triples; every
such answer carries ``X-KG-Max-Rows: N`` and ``X-KG-Truncated: true|false`` (``true``: rows were left
out). Updates and Graph Store requests take a slot but no timeout (an update answered 503 would still be
applied later). Updates from a browser page of another origin are refused (a plain HTML form can POST
``update=`` to 127.0.0.1).
"""

from __future__ import annotations

import html
import json
import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kg.errors import QueryError, UsageError
from kg.query import check_read_only, parse_header, sparql_json_term
from kg.rdf import PREFIXES
from kg.store import GraphStore

TRUNCATED_HEADER = "X-KG-Truncated"
MAX_ROWS_HEADER = "X-KG-Max-Rows"

#: Offered media types in order of preference (the first is the default), with aliases after them.
RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
}
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/json": ox.RdfFormat.JSON_LD,
    "application/xml": ox.RdfFormat.RDF_XML,
}
#: ``format=`` names -> (media type for SELECT/ASK, media type for CONSTRUCT/DESCRIBE).
FORMAT_NAMES: dict[str, tuple[str | None, str | None]] = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None),
    "tsv": ("text/tab-separated-values", None),
    "turtle": (None, "text/turtle"), "ttl": (None, "text/turtle"),
    "ntriples": (None, "application/n-triples"), "nt": (None, "application/n-triples"),
    "jsonld": (None, "application/ld+json"), "json-ld": (None, "application/ld+json"),
    "trig": (None, "application/trig"),
    "nquads": (None, "application/n-quads"), "nq": (None, "application/n-quads"),
    "rdfxml": (None, "application/rdf+xml"),
}
_TURTLE_LIKE = {ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG}
_RDFLIB_DEFAULT = "urn:x-rdflib:default"
# The prologue (comments, BASE, PREFIX) before an operation's first keyword; see _is_update.
_PROLOGUE = re.compile(r"\s*(?:#[^\n]*(?:\n|$)|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)", re.I)
_UPDATE_KEYWORD = re.compile(r"\s*(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
_EXAMPLE = """SELECT ?label ?type WHERE {
  ?entity a ?type ; skos:prefLabel ?label .
  VALUES ?type { kg:Actor kg:WeaponSystem kg:Place }
} ORDER BY ?type ?label LIMIT 50"""
# A worker past its deadline stops at the next row; the request gives up this much later at most.
_GRACE = 0.5


class HttpError(Exception):
    """An answer other than 200, with a plain-text message for the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class QueryTimeout(HttpError):
    def __init__(self, timeout: float):
        super().__init__(503, f"the query ran longer than the server's timeout of {timeout:g} s and was stopped. "
                              "Narrow it (LIMIT, more specific patterns) or ask for a longer --timeout")


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    media_type: str
    truncated: bool | None = None  # None: not a row-based answer (ASK)


@dataclass(frozen=True, slots=True)
class Dataset:
    """The RDF dataset a request names: None is the union default graph, or all named graphs."""

    default_graphs: tuple[ox.NamedNode, ...] | None = None
    named_graphs: tuple[ox.NamedNode, ...] | None = None


# -- content negotiation ---------------------------------------------------------------------------
def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        quality = 1.0
        for field in fields[1:]:
            name, _, value = field.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((fields[0].lower(), quality))
    return ranges


def negotiate(accept: str | None, offered: list[str]) -> str | None:
    """The offered media type the Accept header likes best (ties go to the earlier offer); None if none fits."""
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = _media_ranges(accept)
    best, best_quality = None, 0.0
    for media_type in offered:
        kind = media_type.split("/")[0]
        # The most specific range that matches decides this type's quality (RFC 9110, 12.5.1).
        matches = [(3 if r == media_type else 2 if r == f"{kind}/*" else 1, q) for r, q in ranges
                   if r in (media_type, f"{kind}/*", "*/*")]
        if matches:
            quality = max(matches)[1]
            if quality > best_quality:
                best, best_quality = media_type, quality
    return best


def _content_type(media_type: str) -> str:
    textual = media_type.startswith("text/") or media_type.endswith(("json", "xml", "trig", "n-triples", "n-quads"))
    return f"{media_type}; charset=utf-8" if textual else media_type


# -- results ---------------------------------------------------------------------------------------
def _results_json(variables: list[str], rows: list[list[Any]]) -> bytes:
    bindings = [{v: sparql_json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _serialize_solutions(variables: list[str], rows: list[list[Any]], fmt: ox.QueryResultsFormat) -> bytes:
    """SELECT results in ``fmt``: JSON written here, the other formats by Oxigraph's serializers."""
    data = _results_json(variables, rows)
    if fmt == ox.QueryResultsFormat.JSON:
        return data
    return ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON).serialize(format=fmt)


def _serialize_triples(triples: list[ox.Triple], fmt: ox.RdfFormat) -> bytes:
    kwargs = {"prefixes": PREFIXES} if fmt in _TURTLE_LIKE else {}
    return ox.serialize(triples, format=fmt, **kwargs)


def _is_update(text: str) -> bool:
    """Is this an update, whatever its prologue (kg.query.check_read_only misses PREFIX ... INSERT on one line)?"""
    try:
        check_read_only(parse_header(Path("<http>"), text))
    except QueryError:
        return True
    position = 0
    while (m := _PROLOGUE.match(text, position)) and m.end() > position:
        position = m.end()
    return _UPDATE_KEYWORD.match(text, position) is not None


# Things a query can say SERVICE inside without calling anything: IRIs, strings, comments.
_NOT_KEYWORDS = re.compile(r'<[^<>"{}|^`\\\s]*>'
                           r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
                           r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
                           r'|"(?:[^"\\\n]|\\.)*"'
                           r"|'(?:[^'\\\n]|\\.)*'"
                           r"|#[^\n]*")
_SERVICE_KEYWORD = re.compile(r"\bSERVICE\b", re.I)


def has_service_clause(text: str) -> bool:
    """Does the query call another endpoint (SERVICE), outside IRIs, strings and comments?

    A public endpoint that runs SERVICE clauses fetches any URL a client names, internal ones
    included, so kg serve refuses them unless started with --allow-service."""
    return _SERVICE_KEYWORD.search(_NOT_KEYWORDS.sub(" ", text)) is not None


# -- the application -------------------------------------------------------------------------------
class Endpoint:
    """The store, opened once, and the request handlers; ``create_app`` wires them into Starlette."""

    def __init__(self, store_path: Path, *, timeout: float, max_rows: int, allow_update: bool, workers: int,
                 allow_service: bool = False):
        if timeout <= 0 or max_rows < 1 or workers < 1:
            raise UsageError(f"--timeout must be > 0 and --max-rows and workers >= 1 "
                             f"(got {timeout}, {max_rows}, {workers})")
        self.graph_store = GraphStore(store_path, create=False)
        self.store: ox.Store = self.graph_store.store
        self.store_path = Path(store_path)
        self.timeout = timeout
        self.max_rows = max_rows
        self.allow_update = allow_update
        self.allow_service = allow_service
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._home = (resources.files("kg") / "resources" / "serve" / "home.html").read_text(encoding="utf-8")

    # -- running work off the event loop ---------------------------------------------------------
    async def _in_worker(self, fn: Callable[..., Any], *args: Any, deadline: float | None = None) -> Any:
        """Run ``fn`` in a worker thread; past ``deadline`` (+ grace) answer 503 even if it is still running."""
        if deadline is None:
            outcome = await anyio.to_thread.run_sync(self._in_slot, fn, args, None)
        else:
            outcome = None
            with anyio.move_on_after(max(0.0, deadline - time.monotonic()) + _GRACE):
                outcome = await anyio.to_thread.run_sync(self._in_slot, fn, args, deadline, abandon_on_cancel=True)
            if outcome is None:
                raise QueryTimeout(self.timeout)
        value, error = outcome
        if error is not None:
            raise error
        return value

    def _in_slot(self, fn: Callable[..., Any], args: tuple, deadline: float | None) -> tuple[Any, HttpError | None]:
        """Call ``fn`` holding one of the ``workers`` slots (in the worker thread).

        A thread abandoned at its deadline keeps its slot until Oxigraph returns, so runaway queries
        can never be more than ``workers``; while they run, new requests wait and then get 503."""
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._slots.acquire(timeout=wait):
            return None, HttpError(503, f"the server is busy: all {self.workers} workers are running queries "
                                        "(some may be past their timeout and not yet stopped). Try again later")
        try:
            return _isolated(fn, *args)
        finally:
            self._slots.release()

    # -- /sparql ---------------------------------------------------------------------------------
    async def sparql(self, request: Request) -> Response:
        try:
            return await self._sparql(request)
        except HttpError as err:
            return PlainTextResponse(err.message + "\n", status_code=err.status, headers=err.headers)

    async def _sparql(self, request: Request) -> Response:
        deadline = time.monotonic() + self.timeout
        params = list(request.query_params.multi_items())
        media_type = _media_type(request)
        body_text: tuple[str, str] | None = None
        if request.method == "POST":
            body = await request.body()
            if media_type == "application/x-www-form-urlencoded":
                params += parse_qsl(_decode(body), keep_blank_values=True)
            elif media_type == "application/sparql-query":
                body_text = ("query", _decode(body))
            elif media_type == "application/sparql-update":
                body_text = ("update", _decode(body))
            else:
                raise HttpError(415, f"unsupported Content-Type {media_type or '(none)'!r}: POST "
                                     "application/x-www-form-urlencoded (query= or update=), "
                                     "application/sparql-query or application/sparql-update")
        queries = [v for k, v in params if k == "query"]
        updates = [v for k, v in params if k == "update"]
        if body_text:
            (queries if body_text[0] == "query" else updates).append(body_text[1])
        if len(queries) + len(updates) != 1:
            raise HttpError(400, "give exactly one operation: ?query=... (GET or POST), or update=... (POST); "
                                 "see https://www.w3.org/TR/sparql11-protocol/")
        if updates:
            return await self._update(request, updates[0], params)
        text = queries[0]
        if _is_update(text):
            if not self.allow_update:
                raise HttpError(403, "this is an update (INSERT/DELETE/DROP/...) and this endpoint is read-only; "
                                     "start it with --allow-update to change the store")
            raise HttpError(400, "this is an update sent as a query: send it as update=... or as "
                                 "application/sparql-update with POST")
        if not self.allow_service and has_service_clause(text):
            raise HttpError(403, "this query calls another endpoint (SERVICE) and this server does not fetch "
                                 "remote data for clients; start it with --allow-service to permit federated queries")
        dataset = _dataset(params)
        result_type, graph_type = _choose_formats(request, params)
        answer = await self._in_worker(self._evaluate, text, dataset, result_type, graph_type, deadline,
                                       deadline=deadline)
        headers = {"Vary": "Accept"}
        if answer.truncated is not None:
            headers[MAX_ROWS_HEADER] = str(self.max_rows)
            headers[TRUNCATED_HEADER] = "true" if answer.truncated else "false"
        return Response(answer.body, media_type=_content_type(answer.media_type), headers=headers)

    def _evaluate(self, text: str, dataset: Dataset, result_type: str | None, graph_type: str | None,
                  deadline: float) -> Answer:
        """Run one query and read its results under the deadline and the row cap (in a worker thread)."""
        if time.monotonic() > deadline:  # waited too long for a free worker
            raise QueryTimeout(self.timeout)
        kwargs: dict[str, Any] = {"prefixes": PREFIXES}
        if dataset.default_graphs is None:
            kwargs["use_default_graph_as_union"] = True
        else:
            kwargs["default_graph"] = list(dataset.default_graphs)
        if dataset.named_graphs is not None:
            kwargs["named_graphs"] = list(dataset.named_graphs)
        result = items = None
        try:
            result = self.store.query(text, **kwargs)
            if isinstance(result, ox.QueryBoolean):
                if result_type is None:
                    raise _not_acceptable("ASK", RESULT_TYPES)
                try:
                    return Answer(result.serialize(format=RESULT_TYPES[result_type]), result_type)
                except ValueError as err:
                    raise HttpError(406, f"an ASK answer cannot be written as {result_type} ({err})") from None
            is_select = isinstance(result, ox.QuerySolutions)
            if (result_type if is_select else graph_type) is None:
                raise _not_acceptable("SELECT" if is_select else "CONSTRUCT/DESCRIBE",
                                      RESULT_TYPES if is_select else GRAPH_TYPES)
            variables = [v.value for v in result.variables] if is_select else []
            items, state = self._read(result, deadline)
            if state == "timeout":
                raise QueryTimeout(self.timeout)
            if is_select:
                rows = [[solution[v] for v in variables] for solution in items]
                body = _serialize_solutions(variables, rows, RESULT_TYPES[result_type])
                return Answer(body, result_type, state == "truncated")
            return Answer(_serialize_triples(items, GRAPH_TYPES[graph_type]), graph_type, state == "truncated")
        except SyntaxError as err:
            raise HttpError(400, f"SPARQL syntax error: {err}") from None
        except OSError as err:
            raise HttpError(500, f"the query failed while reading the store: {err}") from None
        finally:
            # Oxigraph's result iterators must be dropped on the thread that made them; no traceback
            # leaving this thread may keep one alive.
            result = items = None

    def _read(self, results: Any, deadline: float) -> tuple[list[Any], str]:
        """Up to max_rows items, checking the deadline between them: (items, "done"|"truncated"|"timeout")."""
        items: list[Any] = []
        for item in results:
            if len(items) == self.max_rows:
                return items, "truncated"
            if time.monotonic() > deadline:
                return [], "timeout"
            items.append(item)
        return items, "done"

    async def _update(self, request: Request, text: str, params: list[tuple[str, str]]) -> Response:
        if not self.allow_update:
            raise HttpError(403, "updates are disabled: this endpoint is read-only. "
                                 "Start it with --allow-update to change the store")
        if request.method != "POST":
            raise HttpError(400, "send updates with POST (update=... or application/sparql-update)")
        _refuse_cross_origin(request)
        if any(k in ("using-graph-uri", "using-named-graph-uri") for k, _ in params):
            raise HttpError(400, "using-graph-uri / using-named-graph-uri are not supported; "
                                 "write USING / USING NAMED in the update")

        def run() -> None:
            try:
                self.store.update(text, prefixes=PREFIXES)
            except SyntaxError as err:
                raise HttpError(400, f"SPARQL syntax error: {err}") from None
            except OSError as err:
                raise HttpError(500, f"the update failed: {err}") from None

        await self._in_worker(run)
        return Response(status_code=204)

    # -- /store (Graph Store HTTP Protocol) ------------------------------------------------------
    async def graph_store_protocol(self, request: Request) -> Response:
        try:
            return await self._graph_store_protocol(request)
        except HttpError as err:
            return PlainTextResponse(err.message + "\n", status_code=err.status, headers=err.headers)

    async def _graph_store_protocol(self, request: Request) -> Response:
        graph = _target_graph(request)
        if request.method in ("GET", "HEAD"):
            offered = [t for t in GRAPH_TYPES if not GRAPH_TYPES[t].supports_datasets]
            media_type = _choose_graph_format(request, offered)

            def read() -> bytes | None:
                if isinstance(graph, ox.NamedNode) and not self.store.contains_named_graph(graph):
                    return None
                triples = [q.triple for q in self.store.quads_for_pattern(None, None, None, graph)]
                return _serialize_triples(triples, GRAPH_TYPES[media_type])

            data = await self._in_worker(read)
            if data is None:
                raise HttpError(404, f"no graph <{graph.value}> in this store")
            return Response(data, media_type=_content_type(media_type), headers={"Vary": "Accept"})
        _refuse_cross_origin(request)
        if request.method == "DELETE":
            def delete() -> bool:
                if isinstance(graph, ox.DefaultGraph):
                    self.store.clear_graph(graph)
                    return True
                if not self.store.contains_named_graph(graph):
                    return False
                self.store.remove_graph(graph)
                return True

            if not await self._in_worker(delete):
                raise HttpError(404, f"no graph <{graph.value}> in this store")
            return Response(status_code=204)
        # PUT replaces the graph, POST adds to it; both in one atomic SPARQL update.
        media_type = _media_type(request)
        rdf_format = ox.RdfFormat.from_media_type(media_type) if media_type else None
        if rdf_format is None:
            raise HttpError(415, f"unsupported Content-Type {media_type or '(none)'!r}; send an RDF document "
                                 "(text/turtle, application/n-triples, application/ld+json, application/rdf+xml, "
                                 "application/trig or application/n-quads)")
        body = await request.body()
        base = graph.value if isinstance(graph, ox.NamedNode) else str(request.url)

        def write() -> bool:
            try:
                triples = [q.triple for q in ox.parse(body, format=rdf_format, base_iri=base)]
            except SyntaxError as err:
                raise HttpError(400, f"the {rdf_format.name} document does not parse: {err}") from None
            is_new = isinstance(graph, ox.NamedNode) and not self.store.contains_named_graph(graph)
            data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8") if triples else ""
            target = "DEFAULT" if isinstance(graph, ox.DefaultGraph) else f"GRAPH <{graph.value}>"
            insert = f"{{ {data} }}" if isinstance(graph, ox.DefaultGraph) else f"{{ {target} {{ {data} }} }}"
            update = (f"DROP SILENT {target} ;\n" if request.method == "PUT" else "") + f"INSERT DATA {insert}"
            if isinstance(graph, ox.NamedNode) and not triples:
                # An empty PUT/POST still creates the graph, as the protocol expects.
                update += f" ;\nCREATE SILENT GRAPH <{graph.value}>"
            self.store.update(update)
            return is_new

        is_new = await self._in_worker(write)
        return Response(status_code=201 if is_new else 204)

    # -- /health and / ---------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        def figures() -> dict:
            return {"status": "ok", "quads": len(self.store), "articles": len(self.graph_store.article_graphs())}

        try:
            return JSONResponse(await self._in_worker(figures, deadline=time.monotonic() + self.timeout))
        except HttpError as err:
            return JSONResponse({"status": "error", "error": err.message}, status_code=503)

    async def home(self, request: Request) -> Response:
        try:
            stats = await self._in_worker(self.graph_store.stats, deadline=time.monotonic() + self.timeout)
        except HttpError:
            stats = {}
        figure = {k: html.escape(f"{stats[k]:,}" if k in stats else "?") for k in
                  ("articles", "entities", "events", "statements", "quads")}
        entity_rows = "\n".join(f'  <tr><td>&nbsp;&nbsp;{html.escape(kind)}</td><td class="n">{n:,}</td></tr>'
                                for kind, n in stats.get("entities_by_type", {}).items())
        page = string.Template(self._home).safe_substitute(
            store=html.escape(str(self.store_path)),
            mode="updates allowed" if self.allow_update else "read-only",
            entity_rows=entity_rows,
            prefixes=html.escape(" ".join(f"{p}:" for p in PREFIXES)),
            example=html.escape(_EXAMPLE),
            max_rows=f"{self.max_rows:,}", timeout=f"{self.timeout:g}", **figure)
        return Response(page, media_type="text/html; charset=utf-8")


def _isolated(fn: Callable[..., Any], *args: Any) -> tuple[Any, HttpError | None]:
    """Call ``fn`` and return (value, error); the error is a fresh copy, so its traceback (and any Oxigraph
    object its frames hold) is freed here, in the worker thread, and not where the answer is awaited."""
    try:
        return fn(*args), None
    except HttpError as err:
        return None, HttpError(err.status, err.message, err.headers)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HttpError(400, f"the request body is not UTF-8 ({err})") from None


def _iri(value: str, parameter: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError as err:
        raise HttpError(400, f"{parameter}={value!r} is not an IRI ({err})") from None


def _dataset(params: list[tuple[str, str]]) -> Dataset:
    """The dataset the protocol parameters name (SPARQL 1.1 Protocol 2.1.4: what they leave out is empty).

    rdflib's ``Dataset(store=SPARQLStore(...))`` sends ``default-graph-uri=urn:x-rdflib:default`` to mean
    "the endpoint's default graph"; here that is the union of all graphs."""
    asks_union = any(k == "default-graph-uri" and v == _RDFLIB_DEFAULT for k, v in params)
    default = [_iri(v, k) for k, v in params if k == "default-graph-uri" and v != _RDFLIB_DEFAULT]
    named = [_iri(v, k) for k, v in params if k == "named-graph-uri"]
    if not default and not named:
        return Dataset()
    if asks_union:
        return Dataset(None, tuple(named) or None)
    return Dataset(tuple(default), tuple(named))


def _choose_formats(request: Request, params: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The media types to answer with for SELECT/ASK and for CONSTRUCT/DESCRIBE (None: nothing acceptable)."""
    formats = [v for k, v in params if k == "format"]
    if formats:
        name = formats[-1].strip()
        if "/" in name:
            accept = name
            return negotiate(accept, list(RESULT_TYPES)), negotiate(accept, list(GRAPH_TYPES))
        if name.lower() not in FORMAT_NAMES:
            raise HttpError(400, f"unknown format={name!r}; use one of {', '.join(FORMAT_NAMES)} or a media type")
        return FORMAT_NAMES[name.lower()]
    accept = request.headers.get("accept")
    return negotiate(accept, list(RESULT_TYPES)), negotiate(accept, list(GRAPH_TYPES))


def _choose_graph_format(request: Request, offered: list[str]) -> str:
    formats = [v for k, v in request.query_params.multi_items() if k == "format"]
    if formats and formats[-1].lower() in FORMAT_NAMES:
        accept = FORMAT_NAMES[formats[-1].lower()][1] or ""
    else:
        accept = formats[-1] if formats else request.headers.get("accept")
    chosen = negotiate(accept, offered)
    if chosen is None:
        raise HttpError(406, f"no acceptable format; this resource is available as {', '.join(offered)}")
    return chosen


def _not_acceptable(form: str, offered: dict) -> HttpError:
    return HttpError(406, f"no acceptable format for a {form} answer; ask for one of {', '.join(offered)} "
                          "(Accept header or format=)")


def _target_graph(request: Request) -> ox.NamedNode | ox.DefaultGraph:
    graphs = request.query_params.getlist("graph")
    has_default = "default" in request.query_params
    if len(graphs) + has_default != 1:
        raise HttpError(400, "name one graph: ?graph=IRI or ?default")
    return ox.DefaultGraph() if has_default else _iri(graphs[0], "graph")


def _refuse_cross_origin(request: Request) -> None:
    """A web page on another origin may not change the store (a plain HTML form could POST update=)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HttpError(403, f"updates from another origin ({origin}) are refused")
    if origin == "null":
        raise HttpError(403, "updates from an opaque origin are refused")


def create_app(store_path: Path, *, timeout: float = 30, max_rows: int = 10000, allow_update: bool = False,
               cors: bool = False, workers: int = 8, allow_service: bool = False) -> Starlette:
    """The Starlette app serving the store at ``store_path`` (opened once, here; it must already exist).

    ``workers`` bounds the queries evaluated at once; more requests wait for a free worker (their
    waiting counts towards ``timeout``)."""
    endpoint = Endpoint(Path(store_path), timeout=timeout, max_rows=max_rows, allow_update=allow_update,
                        workers=workers, allow_service=allow_service)
    from kg.ui import ui_routes

    routes = [
        Route("/endpoint", endpoint.home, methods=["GET"]),
        Route("/sparql", endpoint.sparql, methods=["GET", "POST"]),
        Route("/health", endpoint.health, methods=["GET"]),
        *ui_routes(endpoint),   # the browser UI: /, /query, /entity/..., /article/..., /claims, /api/...
    ]
    if allow_update:
        routes.append(Route("/store", endpoint.graph_store_protocol, methods=["GET", "PUT", "POST", "DELETE"]))
    middleware = []
    if cors:
        middleware.append(Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                                     allow_headers=["Accept", "Content-Type"],
                                     expose_headers=[TRUNCATED_HEADER, MAX_ROWS_HEADER]))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.endpoint = endpoint
    return app


def serve(store_path: Path, host: str = "127.0.0.1", port: int = 8000, **opts: Any) -> None:
    """Serve the store until interrupted (uvicorn, one process: the store directory allows one)."""
    import uvicorn

    app = create_app(Path(store_path), **opts)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)


__all__ = ["create_app", "serve", "negotiate", "TRUNCATED_HEADER", "MAX_ROWS_HEADER"]
