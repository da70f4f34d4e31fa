"""Remote stores through standard protocols only: SPARQL 1.1 Protocol for queries, Graph Store Protocol for writes.

``RemoteStore`` has the methods ``kg build``, ``kg query`` and ``kg viz`` use on the embedded ``GraphStore``
(``is_current``, ``replace_article``, ``flush``, ``query``), so a remote server (Oxigraph server, Virtuoso,
or any endpoint that speaks both protocols) can stand in for ``./kg-store``. ``push`` copies a local store
to a remote one with one PUT per named graph, so pushing twice leaves the same quads.

Parameters of canned queries are bound, never pasted: the SPARQL Protocol has no way to send bindings beside
the query, so they travel as a ``VALUES`` block of terms serialized by pyoxigraph (escaped N-Triples syntax,
which is valid SPARQL term syntax), placed at the start of the query's WHERE group and of every sub-select
WHERE group that projects the variable. See ``bind_values`` for why that gives the same answers as
Oxigraph's substitutions.

Servers differ in their URLs: ``--flavor`` derives them (``oxigraph``: /query and /store?graph=;
``virtuoso``: /sparql and /sparql-graph-crud?graph-uri=, or /sparql-graph-crud-auth with Digest auth);
``--gsp`` names the Graph Store URL of any other server. Our canned queries read the default graph as
the union of all named graphs: Oxigraph gets ``union-default-graph`` with each query (or run it with
``oxigraph serve --union-default-graph``); Virtuoso does it by default; other servers must be set up so.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from kg import __version__
from kg.errors import QueryError, StoreError, UsageError
from kg.model import Article, Extraction
from kg.rdf import ENTITY_GRAPH, ID, ONTOLOGY_IRI, PREFIXES, PROV, article_iri, to_quads

FLAVORS = ("generic", "oxigraph", "virtuoso")
AUTH_SCHEMES = ("auto", "basic", "digest")
PASSWORD_ENV = "KG_ENDPOINT_PASSWORD"
#: Environment variables that set the HTTP layer's defaults (every command with --endpoint reads them).
TIMEOUT_ENV, RETRIES_ENV, MAX_BODY_ENV = "KG_HTTP_TIMEOUT", "KG_HTTP_RETRIES", "KG_HTTP_MAX_BODY"
#: Statuses worth asking again: too many requests, and server-side trouble that is usually passing.
#: 501 (not implemented) and 505 (HTTP version) will not change on a retry.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 508, 509})
MAX_RETRY_WAIT = 60.0
N_TRIPLES = "application/n-triples"
_RESULTS_JSON = "application/sparql-results+json"
_GENERATED_BY = PROV + "wasGeneratedBy"


class RemoteError(StoreError):
    """A remote store did not answer, refused, or answered with an error (the message names the URL)."""


# -- where to send what ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Endpoints:
    """The URLs of one remote store: SPARQL query endpoint, Graph Store endpoint and its graph parameter."""

    query: str
    gsp: str | None
    graph_param: str = "graph"
    flavor: str = "generic"

    @property
    def union_param(self) -> bool:
        """Oxigraph server takes ``union-default-graph`` per query; other servers are configured once."""
        return self.flavor == "oxigraph"


def _base(url: str, suffixes: tuple[str, ...]) -> str:
    """The server's root URL: ``url`` without a trailing known endpoint path (/query, /sparql...)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for suffix in suffixes:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def resolve_endpoints(endpoint: str, gsp: str | None = None, flavor: str = "generic",
                      authenticated: bool = False) -> Endpoints:
    """URLs for ``flavor`` from ``--endpoint`` (the query URL, or for a known flavor the server's root URL).

    ``--gsp`` always wins over the derived Graph Store URL; Virtuoso's authenticated one is
    /sparql-graph-crud-auth (Digest), its anonymous one /sparql-graph-crud (needs SPARQL_UPDATE granted)."""
    if flavor not in FLAVORS:
        raise UsageError(f"--flavor {flavor}: choose one of {', '.join(FLAVORS)}")
    if not re.match(r"^https?://[^/\s]+", endpoint or ""):
        raise UsageError(f"--endpoint {endpoint!r}: give an http(s) URL, e.g. http://127.0.0.1:7878/query")
    if gsp is not None and not re.match(r"^https?://[^/\s]+", gsp):
        raise UsageError(f"--gsp {gsp!r}: give an http(s) URL, e.g. http://127.0.0.1:7878/store")
    if flavor == "oxigraph":
        root = _base(endpoint, ("/query", "/update", "/store"))
        return Endpoints(root + "/query", gsp or root + "/store", "graph", flavor)
    if flavor == "virtuoso":
        root = _base(endpoint, ("/sparql-graph-crud-auth", "/sparql-graph-crud", "/sparql-auth", "/sparql"))
        crud = root + ("/sparql-graph-crud-auth" if authenticated else "/sparql-graph-crud")
        return Endpoints(root + "/sparql", gsp or crud, "graph-uri", flavor)
    return Endpoints(endpoint, gsp, "graph", flavor)


# -- the HTTP layer ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How to talk to a server: credentials, patience and request size."""

    user: str | None = None
    password: str | None = None
    auth: str = "basic"              # basic or digest
    timeout: float = 30.0            # seconds for connecting, and for each read
    retries: int = 3                 # further attempts after a connection error, 429 or 5xx
    backoff: float = 0.5             # first wait; doubled on each retry unless Retry-After says otherwise
    max_body: int = 8 * 1024 * 1024  # bytes per request body; graphs larger than this go in several requests

    @classmethod
    def from_env(cls, user: str | None = None, password_env: str | None = None, auth: str = "basic",
                 **overrides) -> HttpSettings:
        """Settings with the password read from ``password_env`` (default KG_ENDPOINT_PASSWORD), never argv."""
        password = None
        if user:
            variable = password_env or PASSWORD_ENV
            password = os.environ.get(variable)
            if password is None:
                raise UsageError(f"--user {user}: no password in the environment variable {variable}. "
                                 f"Set it (export {variable}=...) or name another with --password-env")
        if auth not in ("basic", "digest"):
            raise UsageError(f"--auth {auth}: choose basic or digest")
        values = {"timeout": _env_number(TIMEOUT_ENV, 30.0, float), "retries": _env_number(RETRIES_ENV, 3, int),
                  "max_body": _env_number(MAX_BODY_ENV, 8 * 1024 * 1024, int)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(user=user, password=password, auth=auth, **values)


def _env_number(name: str, default, kind):
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = kind(text)
    except ValueError:
        raise UsageError(f"{name}={text!r}: not a number") from None
    if value < 0:
        raise UsageError(f"{name}={text!r}: must not be negative")
    return value


def retry_delay(attempt: int, retry_after: str | None, backoff: float, now: datetime | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): the server's Retry-After (seconds or an
    HTTP date) when it gives one, else exponential backoff; never more than MAX_RETRY_WAIT."""
    if retry_after:
        text = retry_after.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return min(float(text), MAX_RETRY_WAIT)
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - (now or datetime.now(UTC))).total_seconds()
            return min(max(seconds, 0.0), MAX_RETRY_WAIT)
    return min(backoff * (2 ** attempt), MAX_RETRY_WAIT)


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class Http:
    """httpx with retries (connection errors, 429, 5xx; Retry-After honoured) and errors that name the URL."""

    def __init__(self, settings: HttpSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep   # the one seam: tests record the waits instead of timing them
        auth: httpx.Auth | None = None
        if settings.user:
            auth = (httpx.DigestAuth if settings.auth == "digest" else httpx.BasicAuth)(
                settings.user, settings.password or "")
        self.client = httpx.Client(auth=auth, timeout=httpx.Timeout(settings.timeout),
                                   headers={"User-Agent": f"kg/{__version__}"})

    def close(self) -> None:
        self.client.close()

    def send(self, method: str, url: str, *, what: str, ok: Iterable[int] = (200, 201, 204),
             **kwargs) -> httpx.Response:
        """One request, retried; ``what`` says what it was for, in errors ("PUT graph <...>")."""
        ok = set(ok)
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as err:
                if last:
                    raise RemoteError(f"{url}: no answer within {self.settings.timeout:g} s while {what} "
                                      f"({type(err).__name__}, {attempts} attempt(s)). Check the server, "
                                      f"or allow more time with {TIMEOUT_ENV}") from None
            except httpx.TransportError as err:
                if last:
                    raise RemoteError(f"{url}: cannot reach the server while {what} ({err or type(err).__name__}; "
                                      f"{attempts} attempt(s)). Check that it runs and the URL is right") from None
            else:
                if response.status_code in ok:
                    return response
                if response.status_code not in RETRY_STATUSES or last:
                    raise self._status_error(response, url, what)
                self.sleep(retry_delay(attempt, response.headers.get("Retry-After"), self.settings.backoff))
                continue
            self.sleep(retry_delay(attempt, None, self.settings.backoff))
        raise AssertionError("unreachable")   # the loop returns or raises

    def _status_error(self, response: httpx.Response, url: str, what: str) -> KgErrorLike:
        status = response.status_code
        body = _excerpt(response)
        if status in (401, 403):
            hint = ("give --user and put the password in the environment (KG_ENDPOINT_PASSWORD or "
                    "--password-env VAR); Virtuoso's /sparql-graph-crud-auth wants --auth digest")
            return RemoteError(f"{url}: HTTP {status} while {what}: not allowed ({body}). {hint}")
        if status == 413:
            return RemoteError(f"{url}: HTTP 413 while {what}: request too large for the server. "
                               f"Lower the request size with --max-body or {MAX_BODY_ENV}")
        if status == 400 and what.startswith("querying"):
            return QueryError(f"{url}: the server refused the query (HTTP 400): {body}")
        return RemoteError(f"{url}: HTTP {status} while {what}: {body}")


KgErrorLike = StoreError | QueryError


# -- binding parameters -----------------------------------------------------------------------------------

_TOKEN = re.compile(r'''
    (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<pname>[A-Za-z_][\w.-]*:[\w.:%-]*|:[\w.:%-]*)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<open>\{) | (?P<close>\}) | (?P<star>\*)
''', re.X)
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


@dataclass
class _Group:
    """A query's (or sub-select's) WHERE group: where it opens and which variables its SELECT projects."""

    insert_at: int
    depth: int
    outermost: bool
    projects_all: bool = False
    projected: set[str] = field(default_factory=set)
    mentioned: set[str] = field(default_factory=set)


def _query_form(sparql: str) -> str:
    for token in _TOKEN.finditer(sparql):
        if token.lastgroup == "word" and token.group().upper() in _FORMS:
            return token.group().upper()
    return "SELECT"


def _where_groups(sparql: str) -> list[_Group]:
    """The WHERE group of the query and of each sub-select, found by a scan that skips comments, strings and IRIs."""
    groups: list[_Group] = []
    open_groups: list[_Group] = []
    pending: dict | None = None    # a query form whose WHERE group has not opened yet
    depth = 0
    previous_word = ""
    for token in _TOKEN.finditer(sparql):
        kind, text = token.lastgroup, token.group()
        if kind == "comment":
            continue
        if kind == "word":
            word = text.upper()
            if word in _FORMS:
                pending = {"form": word, "depth": depth, "where": False, "all": False, "vars": set()}
            elif word == "WHERE" and pending and pending["depth"] == depth:
                pending["where"] = True
            previous_word = word
            continue
        if kind == "star" and pending is not None and previous_word in ("SELECT", "DISTINCT", "REDUCED"):
            pending["all"] = True    # SELECT * (not COUNT(*) or a path's *)
        elif kind == "var":
            name = text[1:]
            for group in open_groups:
                group.mentioned.add(name)
            if pending is not None and previous_word != "AS":
                pending["vars"].add(name)
        elif kind == "open":
            if pending is not None and pending["depth"] == depth and not (
                    pending["form"] == "CONSTRUCT" and not pending["where"]):
                group = _Group(token.end(), depth, outermost=depth == 0, projects_all=pending["all"],
                               projected=pending["vars"])
                groups.append(group)
                open_groups.append(group)
                pending = None
            depth += 1
        elif kind == "close":
            depth -= 1
            while open_groups and open_groups[-1].depth >= depth:
                open_groups.pop()
        previous_word = ""
    return groups


def bind_values(sparql: str, substitutions: dict | None) -> str:
    """The query with ``substitutions`` ({Variable or name: term}) bound by VALUES blocks; the text is otherwise
    unchanged.

    Why this equals Oxigraph's substitutions (SEP-0007: every pattern is joined with the one-row table of the
    bindings, and variables that a sub-select does not project are renamed apart):
    - one VALUES row at the start of the WHERE group is joined with everything in that group, so every
      triple pattern, path and GRAPH ?var sees the value; FILTERs (also inside OPTIONAL and EXISTS, which
      see their group's bindings) read it, and it is projected like any bound variable;
    - a sub-select is evaluated on its own, so it gets its own VALUES when it projects the variable
      (SELECT * or ?var); a sub-select that does not project it has its own variable of that name, which
      substitution renames apart and we leave alone;
    - a VALUES table is data, not query text: its terms are pyoxigraph's N-Triples serialization (quotes,
      backslashes and newlines escaped; IRIs checked by NamedNode), so a value cannot end the literal or
      the block and reach the query's syntax. BIND/AS of a parameter variable would be an error either way.
    """
    if not substitutions:
        return sparql
    bound: dict[str, str] = {}
    for variable, term in substitutions.items():
        name = variable.value if isinstance(variable, ox.Variable) else str(variable).lstrip("?$")
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise QueryError(f"?{name}: not a variable name that kg can bind")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise QueryError(f"?{name}: only IRIs and literals can be bound on a remote endpoint, not {term!r}")
        bound[name] = str(term)
    groups = _where_groups(sparql)
    if not groups:
        raise QueryError("the query has no WHERE group to bind parameters in")
    inserts: list[tuple[int, str]] = []
    for group in groups:
        if group.outermost:
            names = sorted(bound)
        else:
            candidates = group.mentioned if group.projects_all else group.projected
            names = sorted(n for n in bound if n in candidates)
        if names:
            row = " ".join(bound[n] for n in names)
            inserts.append((group.insert_at, f"\n  VALUES ({' '.join('?' + n for n in names)}) {{ ({row}) }}\n"))
    for position, block in sorted(inserts, reverse=True):
        sparql = sparql[:position] + block + sparql[position:]
    return sparql


def _prefixed(sparql: str) -> str:
    """The embedded store gets PREFIXES as an argument; over HTTP they go in front of the text
    (a query's own PREFIX lines come later and win)."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items()) + sparql


# -- reading answers --------------------------------------------------------------------------------------

def _valid_bnode_ids(data: dict) -> dict:
    """Virtuoso names blank nodes "nodeID://b123", which is no valid blank node id for pyoxigraph."""
    for row in data.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode":
                term["value"] = "b" + hashlib.sha1(term["value"].encode()).hexdigest()[:16]
    return data


def parse_results(response: httpx.Response, url: str):
    """A SPARQL answer as pyoxigraph values: QuerySolutions (rows of terms, as the embedded store gives),
    a bool for ASK, or a list of Triples for CONSTRUCT/DESCRIBE."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media in (_RESULTS_JSON, "application/json"):
            body = response.content
            if b'"bnode"' in body:
                body = json.dumps(_valid_bnode_ids(json.loads(body))).encode()
            result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        elif media in ("application/sparql-results+xml", "application/xml"):
            result = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.XML)
        elif media in ("text/tab-separated-values",):
            result = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.TSV)
        else:   # RDF for CONSTRUCT/DESCRIBE: N-Triples is Turtle too
            rdf_format = ox.RdfFormat.N_TRIPLES if media == N_TRIPLES else ox.RdfFormat.TURTLE
            return [q.triple for q in ox.parse(response.content, format=rdf_format)]
    except (SyntaxError, ValueError) as err:
        raise RemoteError(f"{url}: the answer is not valid SPARQL results ({media or 'no content type'}: {err}). "
                          "Is this URL a SPARQL query endpoint?") from None
    if isinstance(result, ox.QuerySolutions):
        return result
    return bool(result)


# -- writing graphs ---------------------------------------------------------------------------------------

def ntriples_chunks(triples: Iterable[ox.Triple], max_body: int) -> Iterator[bytes]:
    """N-Triples text in pieces of at most ``max_body`` bytes (a single longer triple goes alone).

    One line is one triple, so a piece is valid N-Triples on its own. Our graphs have no blank nodes;
    a blank node split across two pieces would become two nodes on the server."""
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    chunk: list[bytes] = []
    size = 0
    for line in data.splitlines(keepends=True):
        if chunk and size + len(line) > max_body:
            yield b"".join(chunk)
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield b"".join(chunk)


def _graphs_from_path_allowed(path: str | None) -> bool:
    """As GraphStore: JSONL lines and stdin have no stable path to find an earlier version by."""
    return bool(path) and path != "<stdin>" and not path.endswith(tuple(f":{d}" for d in "0123456789"))


class RemoteStore:
    """A kg store on a SPARQL server, with the methods build(), query.run() and viz.project() use."""

    def __init__(self, endpoints: Endpoints, settings: HttpSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.endpoints = endpoints
        self.settings = settings or HttpSettings()
        self.http = Http(self.settings, sleep=sleep)
        self.path = endpoints.query          # where messages say the store is
        self.read_only = False
        self._written_entity_triples: set[ox.Triple] = set()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def __str__(self) -> str:
        return self.endpoints.query

    # -- reading -----------------------------------------------------------------------------------------
    def query(self, sparql: str, substitutions: dict | None = None, union: bool = True):
        """Rows of pyoxigraph terms (QuerySolutions), a bool, or triples, as GraphStore.query gives."""
        text = _prefixed(bind_values(sparql, substitutions))
        form = _query_form(sparql)
        accept = (f"{N_TRIPLES}, text/turtle;q=0.9" if form in ("CONSTRUCT", "DESCRIBE")
                  else f"{_RESULTS_JSON}, application/sparql-results+xml;q=0.8")
        data = {"query": text}
        if union and self.endpoints.union_param:
            data["union-default-graph"] = ""
        response = self.http.send("POST", self.endpoints.query, what=f"querying ({form})", data=data,
                                  headers={"Accept": accept})
        result = parse_results(response, self.endpoints.query)
        if form == "ASK" and isinstance(result, ox.QuerySolutions):
            # Virtuoso 7 answers ASK in JSON as a table: no row for false, ?__ASK_RETVAL 1 for true.
            rows = list(result)
            return bool(rows) and all(term is None or term.value not in ("0", "false") for term in rows[0])
        return result

    def is_current(self, article: Article, fingerprint: str) -> bool:
        """Does the server hold this article, with the same text, made by the same pipeline?"""
        node = ox.NamedNode(article_iri(article))
        digest = ox.Literal(hashlib.sha256(article.text.encode("utf-8")).hexdigest())
        pipeline = ox.NamedNode(f"{ID}pipeline/{fingerprint}")
        rows = self.query(f"SELECT ?article WHERE {{ GRAPH ?article {{ ?article <{ONTOLOGY_IRI}contentHash> ?digest ; "
                          f"<{_GENERATED_BY}> ?pipeline }} }} LIMIT 1",
                          {ox.Variable("article"): node, ox.Variable("digest"): digest,
                           ox.Variable("pipeline"): pipeline})
        return next(iter(rows), None) is not None

    def graphs_from_path(self, path: str | None) -> list[str]:
        if not _graphs_from_path_allowed(path):
            return []
        rows = self.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?a <{ONTOLOGY_IRI}sourcePath> ?path }} }}",
                          {ox.Variable("path"): ox.Literal(path)})
        return sorted(row[0].value for row in rows if isinstance(row[0], ox.NamedNode))

    def graph_triples(self, graph: str) -> list[ox.Triple]:
        """A graph's triples, read back with a Graph Store GET."""
        response = self.http.send("GET", self._gsp(), what=f"reading graph <{graph}>",
                                  params={self.endpoints.graph_param: graph},
                                  headers={"Accept": f"{N_TRIPLES}, text/turtle;q=0.9"})
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        rdf_format = ox.RdfFormat.N_TRIPLES if media == N_TRIPLES else ox.RdfFormat.TURTLE
        return [q.triple for q in ox.parse(response.content, format=rdf_format)]

    # -- writing -----------------------------------------------------------------------------------------
    def _gsp(self) -> str:
        if not self.endpoints.gsp:
            raise UsageError(f"{self.endpoints.query}: writing needs the server's Graph Store URL: give --gsp URL, "
                             "or --flavor oxigraph|virtuoso to derive it")
        return self.endpoints.gsp

    def put_graph(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        """Replace ``graph`` with ``triples``: one PUT, or a PUT and POSTs when larger than max_body.

        Either way the end state depends only on ``triples``, so a repeated push changes nothing."""
        triples = list(triples)
        chunks = list(ntriples_chunks(triples, self.settings.max_body)) or [b""]
        params = {self.endpoints.graph_param: graph}
        self.http.send("PUT", self._gsp(), what=f"writing graph <{graph}>", params=params, content=chunks[0],
                       headers={"Content-Type": N_TRIPLES})
        for chunk in chunks[1:]:
            self.http.send("POST", self._gsp(), what=f"writing graph <{graph}>", params=params, content=chunk,
                           headers={"Content-Type": N_TRIPLES})
        return len(triples)

    def merge_into_graph(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        """Add ``triples`` to ``graph`` (Graph Store POST, an RDF merge: sending a set twice adds nothing)."""
        triples = list(triples)
        for chunk in ntriples_chunks(triples, self.settings.max_body):
            self.http.send("POST", self._gsp(), what=f"adding to graph <{graph}>",
                           params={self.endpoints.graph_param: graph}, content=chunk,
                           headers={"Content-Type": N_TRIPLES})
        return len(triples)

    def delete_graph(self, graph: str) -> None:
        """Drop ``graph``; a graph that is already gone (404) is fine."""
        self.http.send("DELETE", self._gsp(), what=f"deleting graph <{graph}>", ok=(200, 201, 204, 404),
                       params={self.endpoints.graph_param: graph})

    def replace_article(self, extraction: Extraction, generated_by: str | None = None) -> int:
        """Write one article's graph on the server, replacing any earlier version; return its quad count.

        Writes what GraphStore.replace_article writes, in an order that a crash cannot turn into a
        wrong "current" article: first the graphs of earlier versions of the same file go (DELETE),
        then the entity descriptions are merged into the shared graph (POST), and last the article's
        graph is PUT, with the prov:wasGeneratedBy that makes it current. Each PUT is atomic on
        Oxigraph and Virtuoso; the three steps together are not, and a failure between them leaves an
        article that is rebuilt next time."""
        graph_iri = article_iri(extraction.article)
        article_quads, entity_quads = to_quads(extraction)
        node = ox.NamedNode(graph_iri)
        if generated_by:
            article_quads.append(ox.Quad(node, ox.NamedNode(_GENERATED_BY),
                                         ox.NamedNode(f"{ID}pipeline/{generated_by}"), node))
        for stale in self.graphs_from_path(extraction.article.path):
            if stale != graph_iri:
                self.delete_graph(stale)
        entity_triples = [q.triple for q in entity_quads if q.triple not in self._written_entity_triples]
        if entity_triples:
            self.merge_into_graph(ENTITY_GRAPH, entity_triples)
            self._written_entity_triples.update(entity_triples)
        self.put_graph(graph_iri, [q.triple for q in article_quads])
        return len(article_quads)

    def flush(self) -> None:
        """Nothing is buffered: each article is on the server when replace_article returns."""


def connect(endpoint: str, *, gsp: str | None = None, flavor: str = "generic", user: str | None = None,
            password_env: str | None = None, auth: str = "auto", timeout: float | None = None,
            retries: int | None = None, max_body: int | None = None) -> RemoteStore:
    """A RemoteStore from command-line options; ``auth`` auto is Digest for Virtuoso, Basic otherwise."""
    if auth not in AUTH_SCHEMES:
        raise UsageError(f"--auth {auth}: choose one of {', '.join(AUTH_SCHEMES)}")
    scheme = ("digest" if flavor == "virtuoso" else "basic") if auth == "auto" else auth
    settings = HttpSettings.from_env(user, password_env, scheme, timeout=timeout, retries=retries, max_body=max_body)
    return RemoteStore(resolve_endpoints(endpoint, gsp, flavor, authenticated=bool(user)), settings)


# -- pushing a local store --------------------------------------------------------------------------------

@dataclass
class PushReport:
    graphs: int = 0
    triples: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)   # (graph IRI, error message)
    seconds: float = 0.0


def push(store, remote: RemoteStore, on_graph: Callable[[str, int], None] | None = None,
         on_start: Callable[[int], None] | None = None) -> PushReport:
    """Copy every named graph of the local ``store`` (GraphStore), the entity graph too, with one PUT each.

    A graph that fails is recorded and the push goes on with the next one."""
    started = time.perf_counter()
    report = PushReport()
    remote._gsp()   # no Graph Store URL is a usage error, not one failure per graph
    graphs = sorted(g.value for g in store.store.named_graphs())
    if on_start:
        on_start(len(graphs))
    for graph in graphs:
        triples = [q.triple for q in store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]
        try:
            remote.put_graph(graph, triples)
        except StoreError as err:
            report.failed.append((graph, str(err)))
        else:
            report.graphs += 1
            report.triples += len(triples)
        if on_graph:
            on_graph(graph, len(triples))
    report.seconds = time.perf_counter() - started
    return report
