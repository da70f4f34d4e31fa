"""Remote stores: kg push / build / query / viz against real Oxigraph and Virtuoso servers on loopback ports.

The servers are the real programs (``oxigraph serve`` from the ``oxigraph`` PyPI package, ``virtuoso-t``
from Debian's virtuoso-opensource-7-bin), each started by a fixture on free 127.0.0.1 ports with its data
in a temporary folder. Failures (503, 401, a dead port) come from small real HTTP servers in this file.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.query import bind, canned_queries
from kg.rdf import BASE, ENTITY_GRAPH, PREFIXES
from kg.remote import HttpSettings, RemoteStore, bind_values, ntriples_chunks, resolve_endpoints, retry_delay
from tests.conftest import SEED, kg_command

ARTICLES = {
    "odesa.txt": "Title: Drones over Odesa\n\n"
                 "Russia launched 20 Shahed drones at Odesa overnight, the Ukrainian air force said. "
                 "Air defenses shot down 14 of them. The Kremlin denied targeting civilian areas.\n",
    "belgorod.txt": "Title: Depot hit near Belgorod\n\n"
                    "Ukraine struck a fuel depot near Belgorod with drones, Russian officials said. "
                    "Russia's Ministry of Defense said its S-400 systems intercepted 9 drones over the "
                    "Belgorod region.\n",
}
#: Parameter values that would break out of a pasted literal or VALUES block, if they were pasted.
HOSTILE_VALUES = ('S-400" } } DROP ALL #', "x' ) } INSERT DATA { <a:b> <a:c> <a:d> } #", 'a\\u0022 } {"b"}\n\\')


# -- helpers ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_kg(*args: str, env: dict | None = None, check: int | None = 0, cwd: Path | None = None):
    proc = subprocess.run([*kg_command(), *args], capture_output=True, timeout=600, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout.decode()[-3000:], proc.stderr.decode()[-3000:])
    return proc


def wait_for_http(url: str, process: subprocess.Popen, log: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:g} s: {log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def local_graphs(store: Path) -> dict[str, set[ox.Triple]]:
    """Every named graph of a local kg store, read without taking its lock."""
    db = ox.Store.read_only(str(store))
    return {g.value: {q.triple for q in db.quads_for_pattern(None, None, None, g)} for g in db.named_graphs()}


def remote_graphs(remote: RemoteStore) -> dict[str, set[ox.Triple]]:
    """Every kg graph on the server (Virtuoso keeps system graphs of its own), read back by GSP GET."""
    rows = remote.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    names = sorted(row[0].value for row in rows if row[0].value.startswith(BASE))
    return {name: set(remote.graph_triples(name)) for name in names}


def as_rdflib(triples: set[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    return graph


def assert_same_graphs(expected: dict[str, set[ox.Triple]], actual: dict[str, set[ox.Triple]]) -> None:
    assert sorted(actual) == sorted(expected)
    for name, triples in expected.items():
        assert isomorphic(as_rdflib(actual[name]), as_rdflib(triples)), name


def query_json(*args: str, env: dict | None = None) -> dict:
    return json.loads(run_kg("query", *args, "--format", "json", env=env).stdout)


# -- servers -----------------------------------------------------------------------------------------------

def _oxigraph_binary() -> str | None:
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")


@pytest.fixture
def oxigraph(tmp_path):
    """A fresh Oxigraph server (its own data folder); yields its root URL."""
    binary = _oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is missing: pip install -e '.[dev]' installs the oxigraph package")
    port = free_port()
    log = tmp_path / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "serve", "--location", str(tmp_path / "oxigraph-data"),
                                    "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/", process, log)
        yield url
    finally:
        stop(process)


def oxigraph_store(url: str, **settings) -> RemoteStore:
    return RemoteStore(resolve_endpoints(url, flavor="oxigraph"), HttpSettings(**settings))


@dataclass
class Corpus:
    docs: Path
    store: Path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    """The seed article and two short ones of ours, built into a local store with the real kg command."""
    root = tmp_path_factory.mktemp("corpus")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    for name, text in ARTICLES.items():
        (docs / name).write_text(text, encoding="utf-8")
    store = root / "local-store"
    run_kg("build", "--store", str(store), str(docs))
    return Corpus(docs, store)


# -- binding parameters (no server needed) ---------------------------------------------------------------

def test_remote_values_binding_gives_the_same_rows_as_substitutions(corpus):
    """For every canned query with parameters, VALUES-bound text == Oxigraph's substitutions, on the same data."""
    db = ox.Store.read_only(str(corpus.store))
    checked = 0
    for query in canned_queries().values():
        if not query.params or "SERVICE" in query.text:
            continue
        first = query.params[0]
        for value in ("S-400", "Russia", "Interception", "assert", "Belgorod Oblast", *HOSTILE_VALUES):
            substitutions = bind(query, {first.name: value})
            expected = [tuple(map(str, row)) for row in db.query(
                query.text, prefixes=PREFIXES, substitutions=substitutions, use_default_graph_as_union=True)]
            bound = bind_values(query.text, substitutions)
            actual = [tuple(map(str, row))
                      for row in db.query(bound, prefixes=PREFIXES, use_default_graph_as_union=True)]
            assert actual == expected, (query.name, value)
            checked += 1
    assert checked >= 40
    # Not vacuous: some of these bindings select rows, and the hostile ones select none.
    evidence = canned_queries()["evidence"]
    assert list(db.query(bind_values(evidence.text, bind(evidence, {"entity": "S-400"})), prefixes=PREFIXES,
                         use_default_graph_as_union=True))


def test_remote_values_block_holds_the_hostile_value_as_one_literal():
    query = canned_queries()["evidence"]
    text = bind_values(query.text, bind(query, {"entity": HOSTILE_VALUES[0]}))
    # The outer WHERE group and the sub-select that projects ?entity each get the binding.
    assert text.count('VALUES (?entity) { ("S-400\\" } } DROP ALL #") }') == 2
    assert text.count("DROP ALL") == 2   # only inside the literals


# -- Oxigraph server ---------------------------------------------------------------------------------------

def test_remote_push_copies_every_named_graph_and_is_idempotent(corpus, oxigraph):
    expected = local_graphs(corpus.store)
    assert ENTITY_GRAPH in expected and len(expected) == 4     # three articles and the entity graph
    first = run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", oxigraph)
    assert "pushed 4 graph(s)" in first.stderr.decode() and "0 graph(s) failed" in first.stderr.decode()
    remote = oxigraph_store(oxigraph)
    assert_same_graphs(expected, remote_graphs(remote))
    quads = httpx.get(oxigraph + "/store", headers={"Accept": "application/n-quads"}).text
    run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", oxigraph + "/query")
    again = httpx.get(oxigraph + "/store", headers={"Accept": "application/n-quads"}).text
    assert sorted(again.splitlines()) == sorted(quads.splitlines())


def test_remote_push_splits_large_graphs_under_max_body(corpus, oxigraph, tmp_path):
    entity_triples = local_graphs(corpus.store)[ENTITY_GRAPH]
    chunks = list(ntriples_chunks(entity_triples, 2048))
    assert len(chunks) > 3 and all(len(c) <= 2048 for c in chunks)
    with Proxy(oxigraph) as proxy:
        run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", proxy.url,
               "--max-body", "2048")
    methods = [m for m, path in proxy.seen if "entities" in path]
    assert methods == ["PUT"] + ["POST"] * (len(chunks) - 1)
    assert_same_graphs(local_graphs(corpus.store), remote_graphs(oxigraph_store(oxigraph)))


def test_remote_build_equals_local_build_skips_current_and_replaces_changed(corpus, oxigraph, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(corpus.docs, docs)
    local = tmp_path / "local"
    run_kg("build", "--store", str(local), str(docs))
    built = run_kg("build", "--flavor", "oxigraph", "--endpoint", oxigraph, str(docs), cwd=tmp_path)
    assert "built 3 article(s)" in built.stderr.decode()
    remote = oxigraph_store(oxigraph)
    assert_same_graphs(local_graphs(local), remote_graphs(remote))

    again = run_kg("build", "--flavor", "oxigraph", "--endpoint", oxigraph, str(docs), cwd=tmp_path)
    assert "built 0 article(s)" in again.stderr.decode() and "skipped 3 unchanged" in again.stderr.decode()

    before = set(remote_graphs(remote))
    (docs / "belgorod.txt").write_text(ARTICLES["belgorod.txt"].replace("9 drones", "12 drones"), encoding="utf-8")
    run_kg("build", "--store", str(local), str(docs))
    changed = run_kg("build", "--flavor", "oxigraph", "--endpoint", oxigraph, str(docs), cwd=tmp_path)
    assert "built 1 article(s)" in changed.stderr.decode() and "skipped 2 unchanged" in changed.stderr.decode()
    after = remote_graphs(remote)
    assert len(after) == len(before) and set(after) != before      # the old version's graph went, a new one came
    assert_same_graphs(local_graphs(local), after)


@pytest.mark.parametrize("query_args", [
    ("weapons-by-place",),
    ("weapons-by-place", "--param", "weapon=S-400"),
    ("claims-by-actor", "--param", "actor=Russia"),
    ("evidence", "--param", "entity=S-400"),
    ("evidence", "--param", f"entity={HOSTILE_VALUES[0]}"),
    ("claims-by-actor", "--param", f"actor={HOSTILE_VALUES[1]}"),
    ("weapons-by-place", "--param", f"weapon={HOSTILE_VALUES[2]}"),
], ids=["no-param", "weapon", "actor", "evidence", "hostile-evidence", "hostile-actor", "hostile-weapon"])
def test_remote_query_gives_the_local_rows(corpus, oxigraph, query_args):
    run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", oxigraph)
    local = query_json(*query_args, "--store", str(corpus.store))
    remote = query_json(*query_args, "--flavor", "oxigraph", "--endpoint", oxigraph)
    assert remote == local
    if query_args[-1].split("=", 1)[-1] not in HOSTILE_VALUES:
        assert local["results"]["bindings"]                   # a real answer, not two empty ones
    # Nothing was changed on the server by the hostile values.
    assert_same_graphs(local_graphs(corpus.store), remote_graphs(oxigraph_store(oxigraph)))


def test_remote_viz_writes_the_same_graph_as_local(corpus, oxigraph, tmp_path):
    run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", oxigraph)
    local = run_kg("viz", "--store", str(corpus.store), "-o", str(tmp_path / "local.html"))
    remote = run_kg("viz", "--flavor", "oxigraph", "--endpoint", oxigraph, "-o", str(tmp_path / "remote.html"))
    summary = lambda proc: proc.stderr.decode().split(": ", 1)[1]   # noqa: E731 - "N nodes, M edges"
    assert summary(remote) == summary(local)
    page = (tmp_path / "remote.html").read_text(encoding="utf-8")
    assert "S-400" in page and "<html" in page.lower()


# -- failures: retries, auth, dead endpoints ------------------------------------------------------------

class Proxy:
    """A real HTTP server on loopback that forwards to ``upstream``, unless ``rule`` answers first.

    ``rule(method, path, headers, count)`` returns None to forward, or (status, headers, body)."""

    def __init__(self, upstream: str, rule=None):
        self.upstream = upstream
        self.rule = rule or (lambda *args: None)
        self.seen: list[tuple[str, str]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append((self.command, self.path))
                answer = proxy.rule(self.command, self.path, self.headers, len(proxy.seen))
                if answer is None:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    upstream = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
                    answer = (upstream.status_code, {"Content-Type": upstream.headers.get("content-type", "")},
                              upstream.content)
                status, headers, data = answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Proxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_remote_retry_delay_honours_retry_after_else_backs_off():
    assert retry_delay(0, "7", backoff=0.5) == 7.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_delay(0, "Thu, 01 Jan 2026 12:00:05 GMT", backoff=0.5, now=now) == 5.0
    assert [retry_delay(n, None, backoff=0.5) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert retry_delay(20, None, backoff=0.5) == 60.0 and retry_delay(0, "3600", backoff=0.5) == 60.0


def test_remote_retries_503_twice_then_answers(corpus, oxigraph):
    run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", oxigraph)

    def unavailable_twice(method, path, headers, count):
        if count == 1:
            return 503, {"Retry-After": "2"}, b"busy"
        if count == 2:
            return 503, {}, b"still busy"
        return None

    waits: list[float] = []
    with Proxy(oxigraph, unavailable_twice) as proxy:
        remote = RemoteStore(resolve_endpoints(proxy.url, flavor="oxigraph"), HttpSettings(backoff=0.25),
                             sleep=waits.append)
        rows = list(remote.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert len(proxy.seen) == 3 and waits == [2.0, 0.5]    # Retry-After first, then backoff 0.25 * 2
    assert int(rows[0][0].value) == sum(map(len, local_graphs(corpus.store).values()))
    # The same through the command, with real (zero-second) waits.
    with Proxy(oxigraph, lambda m, p, h, n: (503, {"Retry-After": "0"}, b"busy") if n <= 2 else None) as proxy:
        local = query_json("weapons-by-place", "--store", str(corpus.store))
        assert query_json("weapons-by-place", "--flavor", "oxigraph", "--endpoint", proxy.url) == local
    # Out of retries: the error names the URL, the status and the body.
    with Proxy(oxigraph, lambda *args: (503, {"Retry-After": "0"}, b"down for maintenance")) as proxy:
        failed = run_kg("query", "weapons-by-place", "--flavor", "oxigraph", "--endpoint", proxy.url,
                        env={"KG_HTTP_RETRIES": "2"}, check=1)
    message = failed.stderr.decode()
    assert f"{proxy.url}/query" in message and "HTTP 503" in message and "down for maintenance" in message
    assert len(proxy.seen) == 3


def test_remote_dead_endpoint_fails_fast_with_the_url(tmp_path, corpus):
    url = f"http://127.0.0.1:{free_port()}"     # nothing listens there
    proc = run_kg("query", "weapons-by-place", "--flavor", "oxigraph", "--endpoint", url,
                  env={"KG_HTTP_RETRIES": "1"}, check=1)
    message = proc.stderr.decode()
    assert f"{url}/query" in message and "cannot reach the server" in message and "2 attempt(s)" in message
    pushed = run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", url,
                    "--retries", "0", check=1)
    message = pushed.stderr.decode()
    assert "4 graph(s) failed" in message and f"graph <{ENTITY_GRAPH}> not pushed" in message


def test_remote_push_names_a_failed_graph_and_goes_on(corpus, oxigraph):
    def refuse_entities(method, path, headers, count):
        return (400, {"Content-Type": "text/plain"}, b"graph refused") if "entities" in path else None

    with Proxy(oxigraph, refuse_entities) as proxy:
        proc = run_kg("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", proxy.url, check=1)
    message = proc.stderr.decode()
    assert f"graph <{ENTITY_GRAPH}> not pushed" in message and "HTTP 400" in message and "graph refused" in message
    assert "pushed 3 graph(s)" in message and "1 graph(s) failed" in message
    expected = {g: t for g, t in local_graphs(corpus.store).items() if g != ENTITY_GRAPH}
    assert_same_graphs(expected, remote_graphs(oxigraph_store(oxigraph)))


def test_remote_basic_auth_password_from_the_environment(corpus, oxigraph):
    import base64

    good = "Basic " + base64.b64encode(b"analyst:s3cret pass").decode()

    def require_basic(method, path, headers, count):
        if headers.get("Authorization") != good:
            return 401, {"WWW-Authenticate": 'Basic realm="kg"'}, b"who are you?"
        return None

    with Proxy(oxigraph, require_basic) as proxy:
        args = ("push", "--store", str(corpus.store), "--flavor", "oxigraph", "--endpoint", proxy.url)
        run_kg(*args, "--user", "analyst", env={"KG_ENDPOINT_PASSWORD": "s3cret pass"})
        run_kg(*args, "--user", "analyst", "--password-env", "MY_PW", env={"MY_PW": "s3cret pass"})
        refused = run_kg(*args, "--user", "analyst", env={"KG_ENDPOINT_PASSWORD": "wrong"}, check=1)
        assert "HTTP 401" in refused.stderr.decode() and "not allowed" in refused.stderr.decode()
        anonymous = run_kg(*args, check=1)
        assert "HTTP 401" in anonymous.stderr.decode()
    assert_same_graphs(local_graphs(corpus.store), remote_graphs(oxigraph_store(oxigraph)))
    env = {k: v for k, v in os.environ.items() if k != "KG_ENDPOINT_PASSWORD"}
    nopass = subprocess.run([*kg_command(), *args, "--user", "analyst"], capture_output=True, env=env, timeout=120)
    assert nopass.returncode == 2 and "KG_ENDPOINT_PASSWORD" in nopass.stderr.decode()


def test_remote_endpoints_per_flavor():
    oxi = resolve_endpoints("http://h:7878/query", flavor="oxigraph")
    assert (oxi.query, oxi.gsp, oxi.graph_param) == ("http://h:7878/query", "http://h:7878/store", "graph")
    virt = resolve_endpoints("http://h:8890", flavor="virtuoso", authenticated=True)
    assert (virt.query, virt.gsp, virt.graph_param) == ("http://h:8890/sparql", "http://h:8890/sparql-graph-crud-auth",
                                                         "graph-uri")
    assert resolve_endpoints("http://h:8890/sparql", flavor="virtuoso").gsp == "http://h:8890/sparql-graph-crud"
    generic = resolve_endpoints("http://h/ds/sparql", gsp="http://h/ds/data")
    assert (generic.query, generic.gsp) == ("http://h/ds/sparql", "http://h/ds/data")


def test_remote_write_without_graph_store_url_says_what_to_give(corpus):
    proc = run_kg("push", "--store", str(corpus.store), "--endpoint", "http://127.0.0.1:9/sparql", check=2)
    assert "--gsp" in proc.stderr.decode()


# -- Virtuoso (Debian's virtuoso-opensource) --------------------------------------------------------------

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {dir}
CheckpointInterval = 60

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 4
MaxClientConnections = 4

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""

#: Virtuoso keeps WKT as its own geometry type (virtrdf:Geometry, float precision), so those triples
#: come back changed; everything else must come back as pushed.
_WKT = "http://www.opengis.net/ont/geosparql#asWKT"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """Virtuoso (virtuoso-t) with its own ini, database and free ports; yields its root URL. dba/dba is the
    default account, used with Digest auth on /sparql-graph-crud-auth."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.skip("virtuoso-t is not installed (make virtuoso installs Debian's virtuoso-opensource-7-bin as root)")
    folder = tmp_path_factory.mktemp("virtuoso")
    http_port, sql_port = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port))
    log = folder / "stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-f", "-c", str(folder / "virtuoso.ini")], cwd=folder,
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    try:
        wait_for_http(url + "/sparql?query=ASK%7B%7D", process, log, seconds=120)
        yield url
    finally:
        stop(process)


VIRTUOSO_ENV = {"KG_ENDPOINT_PASSWORD": "dba"}


def _without_wkt(graphs: dict[str, set[ox.Triple]]) -> dict[str, set[ox.Triple]]:
    return {g: {t for t in triples if t.predicate.value != _WKT} for g, triples in graphs.items()}


def test_remote_virtuoso_push_and_query_round_trip(corpus, virtuoso):
    args = ("--flavor", "virtuoso", "--endpoint", virtuoso, "--user", "dba")
    run_kg("push", "--store", str(corpus.store), *args, env=VIRTUOSO_ENV)
    run_kg("push", "--store", str(corpus.store), *args, env=VIRTUOSO_ENV)     # twice: same graphs
    remote = RemoteStore(resolve_endpoints(virtuoso, flavor="virtuoso"))
    expected, actual = local_graphs(corpus.store), remote_graphs(remote)
    assert_same_graphs(_without_wkt(expected), _without_wkt(actual))
    wkt_subjects = lambda graphs: {t.subject for ts in graphs.values() for t in ts if t.predicate.value == _WKT}  # noqa: E731
    assert wkt_subjects(actual) == wkt_subjects(expected)
    for query_args in (("weapons-by-place",), ("weapons-by-place", "--param", "weapon=S-400"),
                       ("evidence", "--param", "entity=S-400"), ("entities",),
                       ("evidence", "--param", f"entity={HOSTILE_VALUES[0]}"),
                       ("weapons-by-place", "--param", f"weapon={HOSTILE_VALUES[2]}")):
        local = _deterministic(query_json(*query_args, "--store", str(corpus.store)))
        assert _deterministic(query_json(*query_args, *args, env=VIRTUOSO_ENV)) == local, query_args
    # ASK: Virtuoso answers with a one-column table, read as the boolean it means.
    assert remote.query("ASK { ?a kg:sourcePath ?path }") is True
    assert remote.query("ASK { ?a kg:sourcePath ?path }", {ox.Variable("path"): ox.Literal("nowhere")}) is False


def _deterministic(answer: dict) -> dict:
    """SAMPLE() may pick any member of its group (SPARQL 1.1, 18.5.1.7); weapons-by-place's ?example does."""
    for row in answer["results"]["bindings"]:
        row.pop("example", None)
    return answer


def test_remote_virtuoso_build_skips_current_articles(corpus, virtuoso, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kherson.txt").write_text("Title: Shelling in Kherson\n\nRussian artillery shelled Kherson on Sunday, "
                                      "the regional governor said. Ukraine's army said it destroyed a Russian "
                                      "T-72 tank near the Dnipro river.\n", encoding="utf-8")
    args = ("--flavor", "virtuoso", "--endpoint", virtuoso, "--user", "dba")
    first = run_kg("build", *args, str(docs), env=VIRTUOSO_ENV, cwd=tmp_path)
    again = run_kg("build", *args, str(docs), env=VIRTUOSO_ENV, cwd=tmp_path)
    assert "built 1 article(s)" in first.stderr.decode() and "skipped 0 unchanged" in first.stderr.decode()
    assert "built 0 article(s)" in again.stderr.decode() and "skipped 1 unchanged" in again.stderr.decode()
    remote = RemoteStore(resolve_endpoints(virtuoso, flavor="virtuoso"))
    rows = remote.query("SELECT ?a WHERE { ?a kg:sourcePath ?path }",
                        {ox.Variable("path"): ox.Literal(str(docs / "kherson.txt"))})
    assert len(list(rows)) == 1
