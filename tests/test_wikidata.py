"""Online linking and federated queries, against a real HTTP server on 127.0.0.1 that speaks Wikidata.

``WikidataServer`` answers ``wbsearchentities`` and ``wbgetentities`` in the MediaWiki API's JSON
(format version 1, as Wikidata answers) from a small table of made-up items, and SPARQL queries (GET,
or POST as Oxigraph sends SERVICE calls) from a real Oxigraph store holding those items as ``wdt:``
triples, in ``application/sparql-results+json``. It logs every request, so tests count what the client
sent, and can be told to fail first (503, 429) or to answer garbage. The Q-ids of the made-up items are
invented; the class ids are the ones kg's type check accepts (weapon, geographic location, ...).
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest

from kg import query as q
from kg.enrich import METHOD, find_unlinked, link_online
from kg.errors import QueryError
from kg.model import Entity
from kg.rdf import (
    ENTITY_GRAPH,
    GEONAMES,
    KG,
    OWL_SAME_AS,
    WIKIDATA_DIRECT,
    WIKIDATA_ENTITY,
    entity_description,
    entity_iri,
)
from kg.store import GraphStore
from kg.wikidata import (
    CONTACT_URL,
    ItemFacts,
    WikidataClient,
    WikidataError,
    accepted_classes,
    score_candidates,
)

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


# -- the server ----------------------------------------------------------------------------------------

@dataclass
class Item:
    """A made-up Wikidata item. ``claims`` values: "Q…" (an item), a str, or (lat, lon)."""

    qid: str
    label: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)   # other languages
    claims: dict[str, list] = field(default_factory=dict)


_DATATYPE = {"P31": "wikibase-item", "P279": "wikibase-item", "P137": "wikibase-item", "P495": "wikibase-item",
             "P17": "wikibase-item", "P176": "wikibase-item", "P561": "string", "P1566": "external-id",
             "P625": "globe-coordinate"}


def _datavalue(value) -> dict:
    if isinstance(value, tuple):
        lat, lon = value
        return {"value": {"latitude": lat, "longitude": lon, "altitude": None, "precision": 0.0001,
                          "globe": "http://www.wikidata.org/entity/Q2"}, "type": "globecoordinate"}
    if isinstance(value, str) and value.startswith("Q") and value[1:].isdigit():
        return {"value": {"entity-type": "item", "numeric-id": int(value[1:]), "id": value},
                "type": "wikibase-entityid"}
    return {"value": value, "type": "string"}


def entity_json(item: Item, languages: set[str] | None, props: set[str]) -> dict:
    """The item as wbgetentities shows it (only the requested props and languages)."""
    def wanted(lang: str) -> bool:
        return languages is None or lang in languages

    out: dict = {"pageid": 1000 + int(item.qid[1:]) % 100000, "ns": 0, "title": item.qid, "type": "item",
                 "id": item.qid}
    if "labels" in props:
        labels = {"en": item.label, **item.labels}
        out["labels"] = {lang: {"language": lang, "value": v} for lang, v in labels.items() if wanted(lang)}
    if "descriptions" in props:
        out["descriptions"] = ({"en": {"language": "en", "value": item.description}}
                               if item.description and wanted("en") else {})
    if "aliases" in props:
        out["aliases"] = ({"en": [{"language": "en", "value": a} for a in item.aliases]}
                          if item.aliases and wanted("en") else {})
    if "claims" in props:
        out["claims"] = {pid: [{"mainsnak": {"snaktype": "value", "property": pid, "hash": f"{i:040x}",
                                             "datavalue": _datavalue(v), "datatype": _DATATYPE.get(pid, "string")},
                                "type": "statement", "id": f"{item.qid}$0000-{pid}-{i}", "rank": "normal"}
                               for i, v in enumerate(values)]
                         for pid, values in item.claims.items()}
    return out


class WikidataServer:
    """MediaWiki API (/w/api.php) and SPARQL endpoint (/sparql) over made-up items, on 127.0.0.1:0."""

    def __init__(self, items: list[Item]):
        self.items = {i.qid: i for i in items}
        self.order = [i.qid for i in items]          # search ranks items in this order
        self.log: list[dict] = []
        self.script: list[tuple[int, dict, str]] = []  # answers to give before the real ones
        self.garbage = False
        self._lock = threading.Lock()
        self.sparql_store = ox.Store()
        for item in items:
            node = ox.NamedNode(WIKIDATA_ENTITY + item.qid)
            for lang, label in {"en": item.label, **item.labels}.items():
                self.sparql_store.add(ox.Quad(node, ox.NamedNode(RDFS_LABEL), ox.Literal(label, language=lang)))
            for pid, values in item.claims.items():
                for value in values:
                    if isinstance(value, str) and value.startswith("Q") and value[1:].isdigit():
                        self.sparql_store.add(ox.Quad(node, ox.NamedNode(WIKIDATA_DIRECT + pid),
                                                      ox.NamedNode(WIKIDATA_ENTITY + value)))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server._handle(self, parse_qs(urlsplit(self.path).query), None)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                kind = self.headers.get("Content-Type", "").split(";")[0].strip()
                params = parse_qs(body) if kind == "application/x-www-form-urlencoded" else {}
                server._handle(self, params, body if kind == "application/sparql-query" else None)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        port = self.httpd.server_address[1]
        self.api_url = f"http://127.0.0.1:{port}/w/api.php"
        self.sparql_url = f"http://127.0.0.1:{port}/sparql"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.log if path is None or r["path"] == path]

    # -- answering -----------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, params: dict[str, list[str]], sparql_body: str | None):
        path = urlsplit(handler.path).path
        flat = {k: v[0] for k, v in params.items()}
        with self._lock:
            self.log.append({"method": handler.command, "path": path, "params": flat,
                             "headers": {k.lower(): v for k, v in handler.headers.items()}, "body": sparql_body})
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            return self._send(handler, *scripted)
        if self.garbage:
            return self._send(handler, 200, {"Content-Type": "text/html"}, "<html><body>Hello</body></html>")
        if path == "/w/api.php":
            return self._send(handler, 200, {"Content-Type": "application/json; charset=utf-8"},
                              json.dumps(self._api(flat), ensure_ascii=False))
        if path == "/sparql":
            query = sparql_body if sparql_body is not None else flat.get("query", "")
            try:
                result = self.sparql_store.query(query)
            except SyntaxError as err:
                return self._send(handler, 400, {"Content-Type": "text/plain"}, f"bad query: {err}")
            body = result.serialize(format=ox.QueryResultsFormat.JSON).decode("utf-8")
            return self._send(handler, 200, {"Content-Type": "application/sparql-results+json"}, body)
        return self._send(handler, 404, {"Content-Type": "text/plain"}, "not found")

    @staticmethod
    def _send(handler, status: int, headers: dict, body: str) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _api(self, params: dict[str, str]) -> dict:
        action = params.get("action")
        if action == "wbsearchentities":
            return self._search(params)
        if action == "wbgetentities":
            ids = params.get("ids", "").split("|")
            languages = set(params["languages"].split("|")) if params.get("languages") else None
            props = set(params.get("props", "info|sitelinks|aliases|labels|descriptions|claims").split("|"))
            entities = {qid: (entity_json(self.items[qid], languages, props) if qid in self.items
                              else {"id": qid, "missing": ""}) for qid in ids}
            return {"entities": entities, "success": 1}
        return {"error": {"code": "badvalue", "info": f"Unrecognized value for parameter \"action\": {action}."}}

    def _search(self, params: dict[str, str]) -> dict:
        text = params.get("search", "")
        key = text.casefold()
        limit = int(params.get("limit", "7"))
        hits = []
        for qid in self.order:
            item = self.items[qid]
            if item.label.casefold().startswith(key):
                match = {"type": "label", "language": "en", "text": item.label}
            else:
                alias = next((a for a in item.aliases if a.casefold().startswith(key)), None)
                if alias is None:
                    continue
                match = {"type": "alias", "language": "en", "text": alias}
            hit = {"id": qid, "title": qid, "pageid": 1000 + int(qid[1:]) % 100000, "repository": "wikidata",
                   "url": f"//www.wikidata.org/wiki/{qid}", "concepturi": WIKIDATA_ENTITY + qid,
                   "display": {"label": {"value": item.label, "language": "en"},
                               "description": {"value": item.description, "language": "en"}},
                   "label": item.label, "description": item.description, "match": match}
            if match["type"] == "alias":
                hit["aliases"] = [match["text"]]
            hits.append(hit)
        answer = {"searchinfo": {"search": text}, "search": hits[:limit], "success": 1}
        if len(hits) > limit:
            answer["search-continue"] = limit
        return answer


# -- made-up world -------------------------------------------------------------------------------------

WEAPON, FILM, GEO, ORG, STATE, PORT = "Q728", "Q11424", "Q2221906", "Q43229", "Q3624078", "Q900000050"
FREEDONIA, SYLVANIA = "Q900000101", "Q900000102"
VORTEX, STORM_FILM, PORT_VERITY, PORT_VERITY_OTHER, ARMORIAL, HARBOUR = (
    "Q900000201", "Q900000202", "Q900000203", "Q900000204", "Q900000205", "Q900000206")

ITEMS = [
    Item(WEAPON, "weapon"), Item(FILM, "film"), Item(GEO, "geographic location"), Item(ORG, "organization"),
    Item(STATE, "sovereign state"), Item("Q900000051", "cruise missile", claims={"P279": [WEAPON]}),
    Item(PORT, "port", claims={"P279": [GEO]}),
    Item(FREEDONIA, "Freedonia", "made-up state", claims={"P31": [STATE]}),
    Item(SYLVANIA, "Sylvania", "made-up state", claims={"P31": [STATE]}),
    Item(VORTEX, "Vortex-9", "made-up cruise missile", aliases=("V-9", "AS-99 Whirlwind"),
         labels={"ru": "Вихрь-9", "uk": "Вихор-9"},
         claims={"P31": ["Q900000051"], "P561": ["AS-99 Whirlwind"], "P137": [FREEDONIA, ARMORIAL],
                 "P495": [FREEDONIA], "P176": [ARMORIAL]}),
    Item(ARMORIAL, "Armorial Works", "made-up arms maker", claims={"P31": [ORG]}),
    # A film named like a weapon: found first by search, refused by the type check.
    Item(STORM_FILM, "Stormcaller", "made-up 2031 film", claims={"P31": [FILM]}),
    Item(PORT_VERITY, "Port Verity", "made-up port in Freedonia",
         claims={"P31": [PORT], "P17": [FREEDONIA], "P625": [(44.5, 33.25)], "P1566": ["990001"]}),
    Item(PORT_VERITY_OTHER, "Port Verity", "made-up port in Sylvania",
         claims={"P31": [PORT], "P17": [SYLVANIA], "P625": [(10.0, 20.0)], "P1566": ["990002"]}),
    Item(HARBOUR, "Calloway Harbour", "made-up harbour", claims={"P31": [PORT], "P625": [(45.0, 34.0)]}),
]

VORTEX_IRI = entity_iri("WeaponSystem", "vortex-9")
STORM_IRI = entity_iri("WeaponSystem", "stormcaller")
FREEDONIA_IRI = entity_iri("Actor", "freedonia")
PORT_IRI = entity_iri("Place", "port-verity")


@pytest.fixture
def server():
    s = WikidataServer(ITEMS)
    yield s
    s.close()


def make_store(path: Path) -> GraphStore:
    """Entities as kg build describes them: an uncatalogued weapon, a film-named one, a place, a state."""
    s = GraphStore(path)
    graph = ox.NamedNode(ENTITY_GRAPH)
    entities = [
        Entity(id=VORTEX_IRI, label="Vortex-9", type="WeaponSystem", subtype="CruiseMissile"),
        Entity(id=STORM_IRI, label="Stormcaller", type="WeaponSystem", subtype="Other"),
        Entity(id=FREEDONIA_IRI, label="Freedonia", type="Actor", subtype="State", wikidata=FREEDONIA),
        Entity(id=PORT_IRI, label="Port Verity", type="Place", subtype="Facility", country=FREEDONIA_IRI),
    ]
    s.store.extend([quad for e in entities for quad in entity_description(e, graph)])
    return s


def release(store: GraphStore) -> None:
    """Drop our handle so that a kg process can open the store (Oxigraph locks it while open)."""
    import gc

    store.flush()
    del store
    gc.collect()


@pytest.fixture
def store(tmp_path) -> GraphStore:
    return make_store(tmp_path / "store")


@pytest.fixture
def client_for(tmp_path):
    """A client against the server, caching in tmp_path, recording its waits instead of sleeping."""
    clients = []

    def make(server: WikidataServer, cache: Path | None = None, **options) -> WikidataClient:
        waits: list[float] = []
        options.setdefault("backoff", 0.5)
        client = WikidataClient(server.api_url, server.sparql_url, cache_path=cache or tmp_path / "cache.sqlite",
                                sleep=waits.append, **options)
        client.recorded_waits = waits
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _objects(store: GraphStore, subject: str, predicate) -> set:
    return {quad.object for quad in store.store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(str(predicate)),
                                                                  None, ox.NamedNode(ENTITY_GRAPH))}


def _all_quads(store: GraphStore) -> set:
    return set(store.store.quads_for_pattern(None, None, None, None))


# -- linking -------------------------------------------------------------------------------------------

def test_wikidata_link_writes_same_as_confidence_and_enrichment(server, store, client_for):
    report = link_online(store, client_for(server))
    linked = {p.entity.iri: p.best.qid for p in report.linked}
    assert linked == {VORTEX_IRI: VORTEX, PORT_IRI: PORT_VERITY}

    assert ox.NamedNode(WIKIDATA_ENTITY + VORTEX) in _objects(store, VORTEX_IRI, OWL_SAME_AS.value)
    assert _objects(store, VORTEX_IRI, KG.wikidataId) == {ox.Literal(VORTEX)}
    (record,) = _objects(store, VORTEX_IRI, KG.externalLink)
    (confidence,) = _objects(store, record.value, KG.linkConfidence)
    assert confidence.datatype.value.endswith("#decimal") and 0.9 <= float(confidence.value) <= 1.0
    assert _objects(store, record.value, KG.linkMethod) == {ox.Literal(METHOD)}
    assert _objects(store, record.value, KG.linkTarget) == {ox.NamedNode(WIKIDATA_ENTITY + VORTEX)}
    # Enrichment: labels in other languages, aliases, NATO name, operators, origin.
    labels = _objects(store, VORTEX_IRI, RDFS_LABEL)
    assert ox.Literal("Вихрь-9", language="ru") in labels and ox.Literal("Вихор-9", language="uk") in labels
    assert ox.Literal("V-9", language="en") in _objects(store, VORTEX_IRI, "http://www.w3.org/2004/02/skos/core#altLabel")
    assert _objects(store, VORTEX_IRI, KG.natoReportingName) == {ox.Literal("AS-99 Whirlwind")}
    # An operator that is one of our entities points at it; one that is not is the Wikidata item, labelled.
    assert _objects(store, VORTEX_IRI, KG.operator) == {ox.NamedNode(FREEDONIA_IRI),
                                                       ox.NamedNode(WIKIDATA_ENTITY + ARMORIAL)}
    assert _objects(store, WIKIDATA_ENTITY + ARMORIAL, RDFS_LABEL) == {ox.Literal("Armorial Works", language="en")}
    assert _objects(store, VORTEX_IRI, KG.origin) == {ox.NamedNode(FREEDONIA_IRI)}
    # The place in Freedonia (our entity's country), not its namesake in Sylvania, with id and point.
    assert _objects(store, PORT_IRI, KG.geonamesId) == {ox.Literal("990001")}
    assert ox.NamedNode(f"{GEONAMES}990001/") in _objects(store, PORT_IRI, OWL_SAME_AS.value)
    (geometry,) = _objects(store, PORT_IRI, "http://www.opengis.net/ont/geosparql#hasGeometry")
    assert {o.value for o in _objects(store, geometry.value, "http://www.opengis.net/ont/geosparql#asWKT")} == {
        "POINT(33.25 44.5)"}
    assert report.quads > 0 and report.requests > 0


def test_wikidata_linked_store_still_meets_the_shapes(server, store, client_for):
    import rdflib

    from kg.validate import validate_graph

    link_online(store, client_for(server))
    graph = rdflib.Graph()
    graph.parse(data=store.export("nt"), format="nt")
    report = validate_graph(graph)
    assert report.conforms, report.text


def test_wikidata_type_check_rejects_a_film_named_like_a_weapon(server, store, client_for):
    report = link_online(store, client_for(server), dry_run=True)
    storm = next(p for p in report.proposals if p.entity.iri == STORM_IRI)
    assert storm.best is None
    (film,) = storm.candidates
    assert film.qid == STORM_FILM and not film.type_ok and film.confidence == 0.0
    assert "accepted class" in film.reason
    # The SPARQL type check asked for the weapon classes of kg's table.
    checks = [r["params"]["query"] for r in server.requests("/sparql") if f"wd:{STORM_FILM}" in r["params"]["query"]]
    assert checks and all(f"wd:{c}" in checks[0] for c in accepted_classes("WeaponSystem", "Other"))


def test_wikidata_dry_run_writes_nothing(server, store, client_for):
    before = _all_quads(store)
    report = link_online(store, client_for(server), dry_run=True)
    assert len(report.linked) == 2 and report.quads == 0
    assert _all_quads(store) == before


def test_wikidata_second_run_makes_no_request_and_changes_nothing(server, store, client_for, tmp_path):
    link_online(store, client_for(server))
    sent, after_first = len(server.requests()), _all_quads(store)
    again = link_online(store, client_for(server))   # a new client, the same cache file
    assert len(server.requests()) == sent
    assert again.requests == 0 and again.cache_hits > 0 and again.linked == []
    assert _all_quads(store) == after_first
    # Without the cache it asks again, for the entity still unlinked only, and still writes nothing new.
    fresh = link_online(store, client_for(server, cache=tmp_path / "other-cache.sqlite"))
    assert [p.entity.iri for p in fresh.proposals] == [STORM_IRI]
    assert _all_quads(store) == after_first


def test_wikidata_503_then_200_is_retried_honouring_retry_after(server, client_for):
    server.script = [(503, {"Retry-After": "7", "Content-Type": "text/plain"}, "busy")]
    client = client_for(server)
    assert [r["id"] for r in client.search("Vortex")] == [VORTEX]
    assert client.recorded_waits == [7.0]
    assert len(server.requests("/w/api.php")) == 2


def test_wikidata_429_and_5xx_back_off_exponentially(server, client_for):
    server.script = [(429, {}, "slow down"), (502, {}, "bad gateway"), (500, {}, "oops")]
    client = client_for(server, backoff=0.5)
    assert client.search("Port Verity")
    assert client.recorded_waits == [0.5, 1.0, 2.0]


def test_wikidata_gives_up_after_retries_with_a_clear_error(server, client_for):
    server.script = [(503, {}, "busy")] * 10
    client = client_for(server, retries=2)
    with pytest.raises(WikidataError, match=r"no answer after 3 attempts \(last: HTTP 503\)"):
        client.search("Vortex")
    assert len(server.requests()) == 3


def test_wikidata_server_down_is_a_clear_error_and_leaves_the_store_unchanged(store, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = _all_quads(store)
    waits: list[float] = []
    with WikidataClient(f"http://127.0.0.1:{port}/w/api.php", f"http://127.0.0.1:{port}/sparql",
                        cache_path=tmp_path / "c.sqlite", sleep=waits.append, retries=2) as client:
        with pytest.raises(WikidataError) as info:
            link_online(store, client)
    message = str(info.value)
    assert f"127.0.0.1:{port}/w/api.php" in message and "ConnectError" in message and "--wikidata-api" in message
    assert info.value.exit_code == 3 and len(waits) == 2
    assert _all_quads(store) == before


def test_wikidata_failure_midway_leaves_the_store_unchanged(server, store, client_for):
    # The search for the first entity succeeds, then every call fails: nothing may be written.
    server.script = [(200, {"Content-Type": "application/json"}, json.dumps(server._search({"search": "Port"})))]
    server.script += [(503, {}, "down")] * 20
    before = _all_quads(store)
    with pytest.raises(WikidataError):
        link_online(store, client_for(server, retries=1))
    assert _all_quads(store) == before


def test_wikidata_garbage_answer_is_a_clear_error(server, client_for):
    server.garbage = True
    with pytest.raises(WikidataError, match="not JSON.*--wikidata-api"):
        client_for(server).search("Vortex")


def test_wikidata_api_error_is_reported(server, client_for):
    client = client_for(server)
    with pytest.raises(WikidataError, match="badvalue"):
        client._api({"action": "nonsense"})


def test_wikidata_user_agent_names_kg_and_a_contact(server, store, client_for):
    link_online(store, client_for(server))
    agents = {r["headers"].get("user-agent", "") for r in server.requests()}
    assert len(agents) == 1
    (agent,) = agents
    assert agent.startswith("kg/") and CONTACT_URL in agent and "httpx/" in agent


def test_wikidata_wbgetentities_batches_and_skips_missing_items(server, client_for):
    facts = client_for(server).entities([VORTEX, "Q999999999", PORT_VERITY])
    assert set(facts) == {VORTEX, PORT_VERITY}
    assert facts[VORTEX].operators == (FREEDONIA, ARMORIAL) and facts[VORTEX].nato_names == ("AS-99 Whirlwind",)
    assert facts[PORT_VERITY].coordinates == (44.5, 33.25) and facts[PORT_VERITY].geonames == "990001"


# -- scoring -------------------------------------------------------------------------------------------

def _result(qid: str, label: str) -> dict:
    return {"id": qid, "label": label, "description": ""}


def test_wikidata_score_exact_label_beats_alias_and_fuzzy():
    results = [_result("Q1", "Vortex-9 launcher"), _result("Q2", "Vortex-9")]
    facts = {"Q1": ItemFacts("Q1", {"en": "Vortex-9 launcher"}), "Q2": ItemFacts("Q2", {"en": "Vortex-9"})}
    best, other = score_candidates("Vortex-9", results, facts, {"Q1", "Q2"})
    assert (best.qid, best.name_score) == ("Q2", 1.0) and other.confidence < 0.7


def test_wikidata_score_ambiguous_namesakes_fall_below_the_threshold():
    results = [_result("Q1", "Port Verity"), _result("Q2", "Port Verity")]
    facts = {q: ItemFacts(q, {"en": "Port Verity"}) for q in ("Q1", "Q2")}
    best = score_candidates("Port Verity", results, facts, {"Q1", "Q2"})[0]
    assert best.confidence < 0.7 and "ambiguous" in best.reason


def test_wikidata_score_folds_case_and_punctuation():
    facts = {"Q1": ItemFacts("Q1", {"en": "Vortex 9"})}
    (candidate,) = score_candidates("VORTEX-9", [_result("Q1", "Vortex 9")], facts, {"Q1"})
    assert candidate.name_score == 0.9 and candidate.confidence >= 0.7


def test_wikidata_client_refuses_a_non_http_url():
    from kg.errors import UsageError

    with pytest.raises(UsageError, match="--wikidata-api"):
        WikidataClient("ftp://example.org/api", use_cache=False)


# -- the command line ----------------------------------------------------------------------------------

def test_wikidata_kg_link_online_from_an_article(server, run_kg, tmp_path):
    article = tmp_path / "harbour.txt"
    article.write_text("Freedonia said its air defenses shot down four missiles over Calloway Harbour on Monday.\n",
                       encoding="utf-8")
    run_kg("build", str(article), check_rc=0)
    options = ["--wikidata-api", server.api_url, "--wikidata-sparql", server.sparql_url,
               "--cache", str(tmp_path / "cache.sqlite")]

    offline = run_kg("link", check_rc=2)
    assert b"--online" in offline.stderr

    dry = run_kg("link", "--online", "--dry-run", "--type", "Place", *options, check_rc=0)
    assert "Calloway Harbour" in dry.stdout.decode() and HARBOUR in dry.stdout.decode()
    assert "would link 1 of 2" in dry.stderr.decode()

    done = run_kg("link", "--online", *options, check_rc=0)
    assert HARBOUR in done.stdout.decode()
    sent = len(server.requests())
    assert {r["headers"]["user-agent"].split("/")[0] for r in server.requests()} == {"kg"}

    again = run_kg("link", "--online", *options, check_rc=0)
    assert len(server.requests()) == sent and "0 HTTP request(s)" in again.stderr.decode()
    sparql = f"SELECT ?e ?c WHERE {{ ?e owl:sameAs wd:{HARBOUR} ; kg:externalLink/kg:linkConfidence ?c }}"
    rows = json.loads(run_kg("query", "-e", sparql, "--format", "json", check_rc=0).stdout)
    assert len(rows["results"]["bindings"]) == 1


def test_wikidata_kg_link_online_unreachable_exits_3(run_kg, tmp_path):
    release(make_store(tmp_path / "store"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = run_kg("link", "--online", "--wikidata-api", f"http://127.0.0.1:{port}/w/api.php",
                  "--wikidata-sparql", f"http://127.0.0.1:{port}/sparql", "--cache", str(tmp_path / "c.sqlite"),
                  "--timeout", "1", "--retries", "1")
    assert proc.returncode == 3, proc.stderr.decode()
    assert f"error: http://127.0.0.1:{port}/w/api.php: no answer" in proc.stderr.decode()


# -- federated queries ---------------------------------------------------------------------------------

def test_wikidata_federated_query_joins_rows_from_the_service(server, client_for, run_kg, tmp_path):
    store = make_store(tmp_path / "store")
    link_online(store, client_for(server))
    release(store)
    del store
    proc = run_kg("query", "weapons-manufacturer-wikidata", "--service-endpoint", f"wikidata={server.sparql_url}",
                  "--format", "json", "--store", str(tmp_path / "store"), check_rc=0)
    rows = [{k: v["value"] for k, v in b.items()} for b in json.loads(proc.stdout)["results"]["bindings"]]
    assert rows == [{"weapon": "Vortex-9", "item": WIKIDATA_ENTITY + VORTEX, "manufacturerLabel": "Armorial Works",
                     "manufacturer": WIKIDATA_ENTITY + ARMORIAL}]
    (call,) = [r for r in server.requests("/sparql") if r["method"] == "POST"]
    assert "P176" in call["body"]


def test_wikidata_service_endpoint_replaces_only_the_service_iri():
    text = ("SELECT * WHERE { ?s ?p <https://query.wikidata.org/sparql> .\n"
            "  SERVICE SILENT <https://query.wikidata.org/sparql> { ?s ?p ?o } }")
    query = q.parse_header(Path("<inline>"), text)
    out = q.redirect_services(query, {"wikidata": "http://127.0.0.1:9999/sparql"})
    assert out.text == text.replace("SILENT <https://query.wikidata.org/sparql>", "SILENT <http://127.0.0.1:9999/sparql>")
    for bad in ("http://x/> } DROP ALL {", "javascript:alert(1)", "http://a b/"):
        with pytest.raises(QueryError, match="not an http"):
            q.redirect_services(query, {"wikidata": bad})
    with pytest.raises(QueryError, match="has no SERVICE"):
        q.redirect_services(query, {"http://other.example/sparql": "http://127.0.0.1:9999/sparql"})


def _service_query(port: int) -> q.CannedQuery:
    return q.parse_header(Path("<inline>"), f"SELECT ?o WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> "
                                            "{ ?s ?p ?o } }")


def test_wikidata_service_timeout_gives_up_on_a_silent_endpoint(store):
    with socket.socket() as sock:  # listens, never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        query = _service_query(port)
        with pytest.raises(QueryError, match="--service-timeout"):
            q.run(store, query, service_timeout=0.5)


def test_wikidata_service_error_is_a_query_error(store):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    query = _service_query(port)
    with pytest.raises(QueryError, match="the query failed"):
        q.run(store, query, service_timeout=30)


def test_wikidata_unlinked_entities_exclude_linked_ones(store):
    found = {e.iri: e for e in find_unlinked(store)}
    assert set(found) == {VORTEX_IRI, STORM_IRI, PORT_IRI}
    assert found[PORT_IRI].country == FREEDONIA and found[VORTEX_IRI].subtype == "CruiseMissile"
    assert found[STORM_IRI].subtype == "Other"
