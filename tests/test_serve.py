"""The SPARQL 1.1 Protocol endpoint, exercised through real uvicorn servers on 127.0.0.1 port 0."""

from __future__ import annotations

import asyncio
import csv
import http.server
import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import uvicorn

from kg.rdf import ENTITY_GRAPH

ARTICLES = [
    ("Russia says air defences downed 12 Ukrainian drones over Belgorod",
     "Russia's Defence Ministry said on Tuesday that its air defences shot down 12 Ukrainian drones over the "
     "Belgorod region overnight. Kyiv did not comment on the claim."),
    ("Ukraine says it intercepted Russian cruise missiles near Odesa",
     "Ukraine's air force said it intercepted four Russian Kh-101 cruise missiles near Odesa. "
     "Officials reported no casualties."),
    ("Germany to send more Patriot systems to Ukraine",
     "Germany will send two more Patriot air defence systems to Ukraine, Chancellor Olaf Scholz said on Friday."),
]
LABELS = "SELECT DISTINCT ?label WHERE { ?e a kg:Actor ; skos:prefLabel ?label } ORDER BY ?label"
CROSS_JOIN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
RESULT_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"]
GRAPH_TYPES = ["text/turtle", "application/n-triples", "application/ld+json", "application/trig",
               "application/n-quads", "application/rdf+xml"]
EX = "http://example.org/"


@pytest.fixture(scope="module")
def extractions(extractor):
    from kg.ingest import make_article

    return [extractor.extract(make_article(body, title=title, path=f"<test-{i}>"))
            for i, (title, body) in enumerate(ARTICLES)]


def _build_store(path: Path, extractions) -> Path:
    from kg.store import GraphStore

    store = GraphStore(path)
    for extraction in extractions:
        store.replace_article(extraction)
    store.flush()
    del store  # release the directory lock: the server opens it itself
    return path


@contextmanager
def _running(app) -> Iterator[str]:
    """A real uvicorn server in a thread, on a free port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        assert thread.is_alive() and time.monotonic() - started < 20, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory, extractions) -> Iterator[str]:
    """Read-only, default limits."""
    from kg.serve import create_app

    path = _build_store(tmp_path_factory.mktemp("serve") / "store", extractions)
    with _running(create_app(path)) as url:
        yield url


@pytest.fixture(scope="module")
def limited(tmp_path_factory, extractions) -> Iterator[str]:
    """Read-only, three rows at most."""
    from kg.serve import create_app

    path = _build_store(tmp_path_factory.mktemp("serve-limited") / "store", extractions)
    with _running(create_app(path, max_rows=3)) as url:
        yield url


@pytest.fixture(scope="module")
def hasty(tmp_path_factory, extractions) -> Iterator[str]:
    """Read-only, a one-second timeout and rows enough for the cross join to run into it."""
    from kg.serve import create_app

    path = _build_store(tmp_path_factory.mktemp("serve-hasty") / "store", extractions)
    with _running(create_app(path, timeout=1, max_rows=10**8)) as url:
        yield url


@pytest.fixture(scope="module")
def writable(tmp_path_factory, extractions) -> Iterator[str]:
    """Updates allowed, CORS on."""
    from kg.serve import create_app

    path = _build_store(tmp_path_factory.mktemp("serve-writable") / "store", extractions)
    with _running(create_app(path, allow_update=True, cors=True)) as url:
        yield url


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def _labels(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    data = response.json()
    return [b["label"]["value"] for b in data["results"]["bindings"]]


def _expected_labels(url: str, client: httpx.Client) -> list[str]:
    return _labels(client.get(f"{url}/sparql", params={"query": LABELS}))


# -- query methods -----------------------------------------------------------------------------------
def test_serve_get_query_answers_json_by_default(server, client):
    response = client.get(f"{server}/sparql", params={"query": LABELS})
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    labels = _labels(response)
    assert {"Russia", "Ukraine", "Germany", "Olaf Scholz"} <= set(labels)
    assert response.headers["X-KG-Truncated"] == "false"
    assert response.headers["X-KG-Max-Rows"] == "10000"


def test_serve_post_form_and_post_body_answer_like_get(server, client):
    expected = _expected_labels(server, client)
    form = client.post(f"{server}/sparql", data={"query": LABELS})
    body = client.post(f"{server}/sparql", content=LABELS.encode(),
                       headers={"Content-Type": "application/sparql-query"})
    assert _labels(form) == expected
    assert _labels(body) == expected


def test_serve_post_form_with_charset_is_accepted(server, client):
    response = client.post(f"{server}/sparql", content=httpx.QueryParams({"query": LABELS}).__str__().encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert _labels(response) == _expected_labels(server, client)


# -- content negotiation -----------------------------------------------------------------------------
def _parse_results(media_type: str, body: bytes) -> list[str]:
    if media_type == "text/csv":
        return [row["label"] for row in csv.DictReader(io.StringIO(body.decode()))]
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    return [s["label"].value for s in ox.parse_query_results(body, format=fmt)]


@pytest.mark.parametrize("media_type", RESULT_TYPES)
def test_serve_select_negotiates_accept(server, client, media_type):
    response = client.get(f"{server}/sparql", params={"query": LABELS}, headers={"Accept": media_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert _parse_results(media_type, response.content) == _expected_labels(server, client)


@pytest.mark.parametrize(("name", "media_type"), [("json", RESULT_TYPES[0]), ("xml", RESULT_TYPES[1]),
                                                  ("csv", RESULT_TYPES[2]), ("tsv", RESULT_TYPES[3])])
def test_serve_select_format_parameter_overrides_accept(server, client, name, media_type):
    response = client.get(f"{server}/sparql", params={"query": LABELS, "format": name},
                          headers={"Accept": "application/sparql-results+xml"})
    assert response.headers["content-type"].split(";")[0] == media_type


def test_serve_select_weighs_quality_values(server, client):
    accept = "application/sparql-results+json;q=0.5, text/csv, */*;q=0.1"
    response = client.get(f"{server}/sparql", params={"query": LABELS}, headers={"Accept": accept})
    assert response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("media_type", RESULT_TYPES[:2])
def test_serve_ask_answers_boolean(server, client, media_type):
    query = "ASK { ?e skos:prefLabel 'Olaf Scholz'@en }"
    response = client.get(f"{server}/sparql", params={"query": query}, headers={"Accept": media_type})
    assert response.status_code == 200
    result = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.from_media_type(media_type))
    assert bool(result) is True


@pytest.mark.parametrize("media_type", GRAPH_TYPES)
def test_serve_construct_negotiates_rdf_formats(server, client, media_type):
    query = "CONSTRUCT { ?e skos:prefLabel ?l } WHERE { ?e skos:prefLabel ?l }"
    reference = client.get(f"{server}/sparql", params={"query": query, "format": "ntriples"})
    expected = {q.triple for q in ox.parse(reference.content, format=ox.RdfFormat.N_TRIPLES)}
    assert len(expected) >= 10
    response = client.get(f"{server}/sparql", params={"query": query}, headers={"Accept": media_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    parsed = {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.from_media_type(media_type))}
    assert parsed == expected


def test_serve_construct_defaults_to_turtle(server, client):
    response = client.get(f"{server}/sparql", params={"query": "DESCRIBE ?e WHERE { ?e skos:prefLabel 'Odesa'@en }"})
    assert response.headers["content-type"].startswith("text/turtle")
    assert "Odesa" in response.text


@pytest.mark.parametrize(("query", "accept"), [(LABELS, "image/png"),
                                               ("CONSTRUCT WHERE { ?s a ?t }", "text/csv")])
def test_serve_unacceptable_accept_is_406(server, client, query, accept):
    response = client.get(f"{server}/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406
    assert "acceptable" in response.text


# -- dataset parameters -----------------------------------------------------------------------------
def test_serve_default_graph_uri_limits_the_default_graph(server, client):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

    def n(params: list[tuple[str, str]]) -> int:
        response = client.get(f"{server}/sparql", params=[("query", count), *params])
        assert response.status_code == 200, response.text
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    graphs = [b["g"]["value"] for b in client.get(f"{server}/sparql", params={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"}).json()["results"]["bindings"]]
    articles = [g for g in graphs if g != ENTITY_GRAPH]
    assert len(articles) == 3
    union = n([])
    entities = n([("default-graph-uri", ENTITY_GRAPH)])
    one_article = n([("default-graph-uri", articles[0])])
    assert 0 < entities < union and 0 < one_article < union
    assert n([("default-graph-uri", ENTITY_GRAPH), ("default-graph-uri", articles[0])]) == entities + one_article


def test_serve_named_graph_uri_limits_graph_patterns(server, client):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.post(f"{server}/sparql", data={"query": query, "named-graph-uri": ENTITY_GRAPH})
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [ENTITY_GRAPH]
    # With only named graphs named, the default graph is empty (SPARQL 1.1 Protocol 2.1.4).
    empty = client.post(f"{server}/sparql", data={"query": "ASK { ?s ?p ?o }", "named-graph-uri": ENTITY_GRAPH})
    assert empty.json()["boolean"] is False


def test_serve_graph_uris_on_a_sparql_query_body_come_from_the_url(server, client):
    response = client.post(f"{server}/sparql", params={"default-graph-uri": ENTITY_GRAPH},
                           content=b"SELECT DISTINCT ?t WHERE { ?s a ?t . FILTER(?t = schema:NewsArticle) }",
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []  # articles are described in their own graphs


# -- errors and refusals ----------------------------------------------------------------------------
def test_serve_syntax_error_is_400_with_the_parser_message(server, client):
    response = client.get(f"{server}/sparql", params={"query": "SELECT ?x WHERE { ?x ?p }"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "syntax error" in response.text and "1:" in response.text


def test_serve_refuses_service_clauses_unless_allowed(server, client):
    """A federated query would make the server fetch any URL a client names (internal ones too)."""
    hits: list[str] = []

    class Target(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b'{"head":{"vars":["x"]},"results":{"bindings":[]}}')

        do_POST = do_GET

        def log_message(self, *args):
            pass

    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    try:
        query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{target.server_port}/sparql> {{ ?x ?p ?o }} }}"
        response = client.get(f"{server}/sparql", params={"query": query})
        assert response.status_code == 403 and "--allow-service" in response.text
        assert hits == []
        # The word in a string or an IRI is not a SERVICE clause.
        literal = client.get(f"{server}/sparql", params={"query": 'SELECT * WHERE { ?s ?p "Security Service" }'})
        assert literal.status_code == 200
    finally:
        target.shutdown()


@pytest.mark.parametrize("query", ["", None])
def test_serve_missing_query_is_400(server, client, query):
    params = {"query": query} if query is not None else {}
    response = client.get(f"{server}/sparql", params=params)
    assert response.status_code == 400


def test_serve_update_is_403_by_form_and_by_body(server, client):
    update = f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}"
    by_form = client.post(f"{server}/sparql", data={"update": update})
    by_body = client.post(f"{server}/sparql", content=update.encode(),
                          headers={"Content-Type": "application/sparql-update"})
    for response in (by_form, by_body):
        assert response.status_code == 403
        assert "read-only" in response.text and "--allow-update" in response.text
    ask = client.get(f"{server}/sparql", params={"query": f"ASK {{ <{EX}a> ?p ?o }}"})
    assert ask.json()["boolean"] is False


@pytest.mark.parametrize("query", [
    f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}",
    f"PREFIX ex: <{EX}> DELETE WHERE {{ ?s ?p ?o }}",
    f"# a comment\nPREFIX ex: <{EX}>\nDROP ALL",
])
def test_serve_update_sent_as_query_is_403(server, client, query):
    assert client.get(f"{server}/sparql", params={"query": query}).status_code == 403
    assert client.post(f"{server}/sparql", data={"query": query}).status_code == 403


def test_serve_graph_store_protocol_is_absent_when_read_only(server, client):
    assert client.get(f"{server}/store", params={"graph": ENTITY_GRAPH}).status_code == 404


def test_serve_unsupported_content_type_is_415(server, client):
    response = client.post(f"{server}/sparql", content=LABELS.encode(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


# -- limits -------------------------------------------------------------------------------------------
def test_serve_timeout_is_503_and_the_server_goes_on(hasty, client):
    response = client.get(f"{hasty}/sparql", params={"query": CROSS_JOIN})
    assert response.status_code == 503
    assert "timeout" in response.text
    after = client.get(f"{hasty}/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert after.status_code == 200 and after.json()["boolean"] is True
    assert client.get(f"{hasty}/health").json()["status"] == "ok"


def test_serve_max_rows_truncates_and_says_so(limited, client):
    response = client.get(f"{limited}/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 3
    assert response.headers["X-KG-Truncated"] == "true"
    assert response.headers["X-KG-Max-Rows"] == "3"
    graph = client.get(f"{limited}/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert len(graph.text.strip().splitlines()) == 3 and graph.headers["X-KG-Truncated"] == "true"
    exact = client.get(f"{limited}/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"})
    assert exact.headers["X-KG-Truncated"] == "false"


def test_serve_answers_50_concurrent_requests(server):
    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*(client.get(f"{server}/sparql", params={"query": LABELS})
                                          for _ in range(50)))

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 50
    assert len({r.content for r in responses}) == 1


# -- other routes -----------------------------------------------------------------------------------
def test_serve_health_reports_figures(server, client):
    health = client.get(f"{server}/health").json()
    assert set(health) == {"status", "quads", "articles"}
    assert health["status"] == "ok" and health["articles"] == 3 and health["quads"] > 100


def test_serve_home_page_is_self_contained(server, client):
    response = client.get(f"{server}/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<form method="post" action="sparql">' in page and 'name="query"' in page
    assert "src=" not in page and "http://" not in page and "https://" not in page
    assert "<th>articles</th><td class=\"n\">3</td>" in page
    assert "{ kg:Actor" in page  # the example query, escaped into the textarea


def test_serve_cors_only_when_asked(server, writable, client):
    origin = {"Origin": "https://analyst.example"}
    assert "access-control-allow-origin" not in client.get(f"{server}/sparql", params={"query": LABELS},
                                                           headers=origin).headers
    response = client.get(f"{writable}/sparql", params={"query": LABELS}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-kg-truncated" in response.headers["access-control-expose-headers"].lower()
    preflight = client.options(f"{writable}/sparql", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


# -- real clients -----------------------------------------------------------------------------------
def test_serve_sparqlwrapper_select(server, client):
    from SPARQLWrapper import JSON, SPARQLWrapper

    endpoint = SPARQLWrapper(f"{server}/sparql")
    endpoint.setQuery("PREFIX kg: <https://w3id.org/conflict-kg/ontology#>\n"
                      "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n" + LABELS)
    endpoint.setReturnFormat(JSON)
    result = endpoint.queryAndConvert()
    assert [b["label"]["value"] for b in result["results"]["bindings"]] == _expected_labels(server, client)
    endpoint.setMethod("POST")
    assert endpoint.queryAndConvert() == result


def test_serve_rdflib_sparqlstore_query(server, client):
    from rdflib import Dataset
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    dataset = Dataset(store=SPARQLStore(f"{server}/sparql"))
    rows = dataset.query("PREFIX kg: <https://w3id.org/conflict-kg/ontology#>\n"
                         "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n" + LABELS)
    assert [str(row[0]) for row in rows] == _expected_labels(server, client)
    assert dataset.query("ASK { ?s ?p ?o }").askAnswer is True


def test_serve_plain_httpx_json(server):
    response = httpx.post(f"{server}/sparql", data={"query": LABELS},
                          headers={"Accept": "application/sparql-results+json"})
    assert json.loads(response.content)["head"]["vars"] == ["label"]


# -- updates (allow_update=True) ----------------------------------------------------------------------
def test_serve_insert_data_when_updates_are_allowed(writable, client):
    update = f'INSERT DATA {{ GRAPH <{EX}notes> {{ <{EX}s300> skos:prefLabel "S-300 battery" }} }}'
    response = client.post(f"{writable}/sparql", data={"update": update})
    assert response.status_code == 204, response.text
    ask = client.get(f"{writable}/sparql", params={"query": f'ASK {{ <{EX}s300> skos:prefLabel "S-300 battery" }}'})
    assert ask.json()["boolean"] is True
    body = client.post(f"{writable}/sparql", content=f"DROP GRAPH <{EX}notes>".encode(),
                       headers={"Content-Type": "application/sparql-update"})
    assert body.status_code == 204
    assert client.get(f"{writable}/sparql", params={"query": f"ASK {{ <{EX}s300> ?p ?o }}"}).json()["boolean"] is False


def test_serve_update_with_get_or_from_another_origin_is_refused(writable, client):
    update = f"INSERT DATA {{ <{EX}x> <{EX}y> <{EX}z> }}"
    assert client.get(f"{writable}/sparql", params={"update": update}).status_code == 400
    cross = client.post(f"{writable}/sparql", data={"update": update}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert client.get(f"{writable}/sparql", params={"query": f"ASK {{ <{EX}x> ?p ?o }}"}).json()["boolean"] is False


def test_serve_graph_store_put_get_post_delete(writable, client):
    from rdflib import Graph
    from rdflib.compare import isomorphic

    graph = f"{EX}graphs/deliveries"
    turtle = (f"@prefix ex: <{EX}> .\n"
              'ex:delivery1 ex:system ex:Patriot ; ex:recipient ex:Ukraine ; ex:note "two batteries"@en .\n'
              "ex:delivery1 ex:source [ ex:name \"ministry statement\" ] .\n")
    put = client.put(f"{writable}/store", params={"graph": graph}, content=turtle.encode(),
                     headers={"Content-Type": "text/turtle"})
    assert put.status_code == 201, put.text
    got = client.get(f"{writable}/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/turtle")
    assert isomorphic(Graph().parse(data=got.text, format="turtle"), Graph().parse(data=turtle, format="turtle"))
    # PUT again replaces (204), POST adds.
    again = client.put(f"{writable}/store", params={"graph": graph}, content=f"<{EX}a> <{EX}b> <{EX}c> .".encode(),
                       headers={"Content-Type": "application/n-triples"})
    assert again.status_code == 204
    post = client.post(f"{writable}/store", params={"graph": graph}, content=f"<{EX}a> <{EX}b> <{EX}d> .".encode(),
                       headers={"Content-Type": "application/n-triples"})
    assert post.status_code == 204
    nt = client.get(f"{writable}/store", params={"graph": graph, "format": "nt"}).text
    assert sorted(nt.strip().splitlines()) == [f"<{EX}a> <{EX}b> <{EX}c> .", f"<{EX}a> <{EX}b> <{EX}d> ."]
    assert client.delete(f"{writable}/store", params={"graph": graph}).status_code == 204
    assert client.get(f"{writable}/store", params={"graph": graph}).status_code == 404
    assert client.delete(f"{writable}/store", params={"graph": graph}).status_code == 404


def test_serve_graph_store_default_graph_and_errors(writable, client):
    put = client.put(f"{writable}/store?default", content=f"<{EX}d> <{EX}e> <{EX}f> .".encode(),
                     headers={"Content-Type": "application/n-triples"})
    assert put.status_code == 204
    assert client.get(f"{writable}/store", params={"default": "", "format": "nt"}).text.strip() == \
        f"<{EX}d> <{EX}e> <{EX}f> ."
    assert client.delete(f"{writable}/store?default").status_code == 204
    assert client.get(f"{writable}/store", params={"default": "", "format": "nt"}).text.strip() == ""
    assert client.get(f"{writable}/store").status_code == 400
    bad = client.put(f"{writable}/store", params={"graph": f"{EX}g"}, content=b"<a> <b",
                     headers={"Content-Type": "text/turtle"})
    assert bad.status_code == 400
    unsupported = client.put(f"{writable}/store", params={"graph": f"{EX}g"}, content=b"x",
                             headers={"Content-Type": "image/png"})
    assert unsupported.status_code == 415
