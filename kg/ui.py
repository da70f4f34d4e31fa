"""The browser UI of ``kg serve``: pages an analyst reads (home, entity, article, claims) and a query page.

Routes (mounted by ``kg.serve.create_app``):

- ``/``: the store's figures, the latest articles, the most-mentioned entities, a plain SPARQL form.
- ``/query``: a SPARQL editor (CodeMirror 5, vendored) and the canned queries with their parameters
  as form fields; results as a sortable table, CSV/JSON downloads, and a graph of their neighbourhood.
- ``/entity/<type>/<key>``, ``/article/<key>``: one entity, one article (its stored sentences with the
  mentions highlighted, its events and statements beside it). ``/resource?iri=`` sends any IRI of the
  store to the page that shows it (an event to its sentence in its article).
- ``/claims``: statements grouped by the event they are about, and the contradictions canned query.
- ``/api/queries``, ``/api/query/<name>``: the canned queries, run with their parameters bound as RDF
  terms (``kg.query.run``); JSON (SPARQL 1.1 results), CSV or TSV.
- ``/ui/graph``: the ``kg viz`` page (``kg.viz.project`` + ``render_html``) of a query's results or an
  entity's neighbourhood, shown in an iframe.

Text from articles is untrusted. Pages are rendered by Jinja with autoescape, page scripts show data with
``textContent`` only, URLs from articles become links only when they are http(s), and every page carries a
Content-Security-Policy that lets only our own script files run: an injected ``<script>`` or ``onerror=``
would not execute even if the escaping failed. Every SPARQL query a page runs gets its values through
Oxigraph substitutions (``GraphStore.query(..., substitutions=...)``), never pasted into the text; a bound
variable has to be projected, which is why the queries below select the very variable they are given.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from kg import query as canned
from kg.errors import KgError, QueryError
from kg.rdf import ENTITY_GRAPH, ID, ONTOLOGY_IRI, PREFIXES, SUBTYPE_CLASS, WIKIDATA_ENTITY
from kg.serve import _EXAMPLE, MAX_ROWS_HEADER, TRUNCATED_HEADER, Endpoint, HttpError, _is_update
from kg.store import GraphStore

#: Only our own files may run or style the page; frames only from here (the graph view).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer"}
ENTITY_PATHS = {"actor": "Actor", "weaponsystem": "WeaponSystem", "place": "Place"}
ENTITY_KINDS = ("Actor", "WeaponSystem", "Place")
_CLASS_SUBTYPE = {cls: subtype for (_, subtype), cls in SUBTYPE_CLASS.items()}
_ARTICLE_IRI = re.compile(re.escape(ID) + r"article/(?P<key>[A-Za-z0-9_-]+)(?:/(?P<rest>.*))?$")
_ARTICLE_KEY = re.compile(r"[A-Za-z0-9_-]{1,80}")
_HTTP_URL = re.compile(r"https?://[^\s<>\"'`\\]+", re.I)
_WKT_POINT = re.compile(r"\s*POINT\s*\(\s*(?P<lon>-?[\d.]+)\s+(?P<lat>-?[\d.]+)\s*\)\s*", re.I)
#: Reserved query-string names of /api/query/<name> (the rest are the query's parameters).
_API_OPTIONS = ("format", "download")
#: Rows of a page's lists, so one hub entity (thousands of mentions) does not make a megabyte page.
LIST_LIMIT = 200
CLAIM_EVENTS = 100
#: Gap (characters) between two stored sentences above which text was left out of the store.
_CONTIGUOUS = 3
GRAPH_NODES = 150
_GRAPH_CACHE = 16


# -- IRIs and links --------------------------------------------------------------------------------

def link_for(iri: str | None) -> str | None:
    """The UI page of one of our IRIs, or the IRI itself when it is an http(s) URL elsewhere; else None."""
    if not iri:
        return None
    if iri.startswith(ID):
        rest = iri[len(ID):]
        if rest.split("/", 1)[0] in ENTITY_PATHS:
            return "/entity/" + quote(rest, safe="/-._~")
        match = _ARTICLE_IRI.match(iri)
        if match and not match["rest"]:
            return "/article/" + match["key"]
        return "/resource?" + urlencode({"iri": iri})
    if _HTTP_URL.fullmatch(iri):
        return iri
    return None


def is_external(href: str | None) -> bool:
    return bool(href) and not href.startswith("/")


def short_iri(iri: str) -> str:
    """``kgid:actor/russia``, ``wd:Q159``: IRIs as a reader scans them."""
    for prefix, base in (("kgid", ID), ("kg", ONTOLOGY_IRI), ("wd", WIKIDATA_ENTITY)):
        if iri.startswith(base):
            return f"{prefix}:{iri[len(base):]}"
    return iri


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def _article_key(iri: str) -> str | None:
    match = _ARTICLE_IRI.match(iri)
    return match["key"] if match else None


# -- reading the store -----------------------------------------------------------------------------

def _select(store: GraphStore, sparql: str, **bound: ox.NamedNode | ox.Literal) -> list[dict[str, str | None]]:
    """Rows of a SELECT as {variable: lexical value or None}, with ``bound`` given as substitutions."""
    substitutions = {ox.Variable(name): term for name, term in bound.items()}
    results = store.query(sparql, substitutions=substitutions or None)
    names = [v.value for v in results.variables]
    return [{n: (None if s[n] is None else s[n].value) for n in names} for s in results]


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


_LATEST_ARTICLES = """
SELECT ?article ?headline ?published ?publisher ?identifier WHERE {
  ?article a schema:NewsArticle .
  OPTIONAL { ?article schema:headline ?headline }
  OPTIONAL { ?article schema:datePublished ?published }
  OPTIONAL { ?article schema:publisher ?publisher }
  OPTIONAL { ?article schema:identifier ?identifier }
} ORDER BY DESC(?published) ?headline ?article LIMIT 20"""

_TOP_ENTITIES = f"""
SELECT ?entity ?label ?type ?mentions ?articles WHERE {{
  {{ SELECT ?entity (COUNT(?m) AS ?mentions) (COUNT(DISTINCT ?article) AS ?articles) WHERE {{
       GRAPH ?article {{ ?m kg:refersTo ?entity }} }}
     GROUP BY ?entity ORDER BY DESC(?mentions) ?entity LIMIT 20 }}
  GRAPH <{ENTITY_GRAPH}> {{
    ?entity a ?type . VALUES ?type {{ kg:Actor kg:WeaponSystem kg:Place }}
    OPTIONAL {{ ?entity skos:prefLabel ?label }}
  }}
}} ORDER BY DESC(?mentions) ?label"""

_ENTITY_DESCRIPTION = f"""
SELECT ?entity ?p ?o ?label WHERE {{
  GRAPH <{ENTITY_GRAPH}> {{ ?entity ?p ?o . OPTIONAL {{ ?o skos:prefLabel ?label }} }}
}}"""

_ENTITY_GEOMETRY = f"""
SELECT ?entity ?wkt WHERE {{ GRAPH <{ENTITY_GRAPH}> {{ ?entity geo:hasGeometry/geo:asWKT ?wkt }} }}"""

_ENTITY_MENTION_COUNT = """
SELECT ?entity (COUNT(?m) AS ?mentions) (COUNT(DISTINCT ?article) AS ?articles) WHERE {
  GRAPH ?article { ?m kg:refersTo ?entity }
} GROUP BY ?entity"""

_ENTITY_MENTIONS = f"""
SELECT ?entity ?text ?start ?end ?sentenceText ?sentenceStart ?article ?headline WHERE {{
  ?m kg:refersTo ?entity ; kg:text ?text ; kg:start ?start ; kg:end ?end ; kg:sentence ?sentence .
  ?sentence kg:text ?sentenceText ; kg:start ?sentenceStart ; kg:inArticle ?article .
  OPTIONAL {{ ?article schema:headline ?headline }}
}} ORDER BY ?article ?start LIMIT {LIST_LIMIT}"""

_ARTICLE_META = """
SELECT ?article ?p ?o WHERE {
  ?article ?p ?o .
  VALUES ?p { schema:headline schema:datePublished schema:publisher schema:url schema:identifier kg:sourcePath }
}"""

_ARTICLE_SENTENCES = """
SELECT ?article ?text ?start ?end WHERE { ?s kg:inArticle ?article ; kg:text ?text ; kg:start ?start ; kg:end ?end }
ORDER BY ?start"""

_ARTICLE_MENTIONS = f"""
SELECT ?article ?start ?end ?entity ?label ?class WHERE {{
  ?s kg:inArticle ?article . ?m kg:sentence ?s ; kg:refersTo ?entity ; kg:start ?start ; kg:end ?end .
  OPTIONAL {{ GRAPH <{ENTITY_GRAPH}> {{ ?entity skos:prefLabel ?label }} }}
  OPTIONAL {{ GRAPH <{ENTITY_GRAPH}> {{ ?entity a ?class }} }}
}}"""

# Details of events and statements, one (key, value) per row rather than one row per combination of
# their properties (an event with 3 weapons and 2 places would otherwise be 6 rows per sentence). The
# anchor pattern chooses which nodes, from the bound variable; it is repeated in every branch of the
# UNION because Oxigraph evaluates a UNION on its own before joining it with what precedes it: one
# anchored branch per property took 0.5 s for an actor's 366 statements on 1,000 articles, the anchor
# before the UNION 4.7 s.
_EVENT_BRANCHES = (
    '?event a ?value . FILTER(?value != kg:Event) BIND("type" AS ?key)',
    '?event kg:trigger ?value . BIND("trigger" AS ?key)',
    '?event kg:count ?value . BIND("count" AS ?key)',
    '?event kg:countQualifier ?value . BIND("qualifier" AS ?key)',
    '?event kg:timeText ?value . BIND("time" AS ?key)',
    '?event ?role ?value . VALUES ?role { kg:agent kg:target kg:weapon kg:place } '
    f'BIND(STRAFTER(STR(?role), "#") AS ?key) OPTIONAL {{ GRAPH <{ENTITY_GRAPH}> {{ ?value skos:prefLabel ?label }} }}',
    '?event kg:evidence ?s . ?s kg:text ?value ; kg:start ?start . BIND("evidence" AS ?key)',
    '?article schema:headline ?value . BIND("headline" AS ?key)',
)
_STATEMENT_BRANCHES = (
    '?statement kg:stance ?value . BIND("stance" AS ?key)',
    '?statement kg:reportingVerb ?value . BIND("verb" AS ?key)',
    '?statement kg:hedged ?value . BIND("hedged" AS ?key)',
    '?statement kg:hedgeCue ?value . BIND("hedge" AS ?key)',
    '?statement kg:content ?value . BIND("content" AS ?key)',
    '?statement kg:speakerText ?value . BIND("speakerText" AS ?key)',
    '?statement kg:about ?value . BIND("about" AS ?key)',
    '?statement kg:speaker ?value . BIND("speaker" AS ?key) '
    f'OPTIONAL {{ GRAPH <{ENTITY_GRAPH}> {{ ?value skos:prefLabel ?label }} }}',
    '?statement kg:evidence ?s . ?s kg:text ?value ; kg:start ?start . BIND("evidence" AS ?key)',
    '?article schema:headline ?value . BIND("headline" AS ?key)',
)
_ROLES = "VALUES ?anchorRole { kg:agent kg:target kg:weapon kg:place }"
#: kind-anchor -> (variables the anchor adds to the result, the anchor pattern). Lists that can grow with
#: the store (a hub entity's statements) are cut at LIST_LIMIT inside the anchor.
_ANCHORS = {
    "event-entity": ("?entity ?anchorRole", f"{{ SELECT ?entity ?event ?anchorRole WHERE {{ "
                     f"?event ?anchorRole ?entity . {_ROLES} }} ORDER BY ?event LIMIT {LIST_LIMIT} }}"),
    # GRAPH first: with ?article bound it reads one article's graph (a type pattern alone scanned every event)
    "event-article": ("", "GRAPH ?article { ?event a kg:Event }"),
    # one event, bound (the claims view reads the events most talked about one by one: the aggregate that
    # chooses them, repeated in every branch, made the page take 5 s on 1,000 articles instead of 1 s)
    "event-one": ("", ""),
    "statement-speaker": ("?entity", f"{{ SELECT ?entity ?statement WHERE {{ ?statement kg:speaker ?entity }} "
                          f"ORDER BY ?statement LIMIT {LIST_LIMIT} }}"),
    "statement-about": ("?entity", f"{{ SELECT DISTINCT ?entity ?statement WHERE {{ ?event ?anchorRole ?entity . "
                        f"{_ROLES} ?statement kg:about ?event }} ORDER BY ?statement LIMIT {LIST_LIMIT} }}"),
    # Events have evidence sentences too: read_statements drops what has no stance (checking the type here
    # made this anchor 4x slower).
    "statement-mention": ("?entity", f"{{ SELECT DISTINCT ?entity ?statement WHERE {{ ?m kg:refersTo ?entity ; "
                          f"kg:sentence ?s0 . ?statement kg:evidence ?s0 }} ORDER BY ?statement LIMIT {LIST_LIMIT} }}"),
    "statement-article": ("", "GRAPH ?article { ?statement a kg:Statement }"),
    "statement-about-event": ("?event", "?statement kg:about ?event ."),
}


@dataclass
class Sentence:
    """One evidence sentence: its text and where its article page shows it."""

    text: str
    start: int
    article: str
    headline: str | None = None

    @property
    def href(self) -> str:
        key = _article_key(self.article)
        return f"/article/{key}#s-{self.start}" if key else "#"


@dataclass
class EventView:
    iri: str
    article: str
    type: str = "Event"
    trigger: str | None = None
    count: str | None = None
    qualifier: str | None = None
    time: str | None = None
    headline: str | None = None
    roles: dict[str, list[tuple[str, str]]] = field(default_factory=dict)   # role -> [(IRI, label)]
    evidence: list[Sentence] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)   # anchor values: the entity's role, claim count

    @property
    def anchor(self) -> str:
        return "event-" + self.iri.rsplit("/", 1)[-1]

    @property
    def title(self) -> str:
        words = f": {self.trigger}" if self.trigger else ""
        number = f" ({self.count})" if self.count is not None else ""
        return f"{self.type}{words}{number}"

    @property
    def first(self) -> Sentence | None:
        return self.evidence[0] if self.evidence else None


@dataclass
class StatementView:
    iri: str
    article: str
    stance: str = "statement"
    verb: str | None = None
    hedged: bool = False
    hedges: list[str] = field(default_factory=list)
    content: str | None = None
    speaker: tuple[str, str] | None = None   # (IRI, label)
    speaker_text: str | None = None
    about: list[str] = field(default_factory=list)
    headline: str | None = None
    evidence: list[Sentence] = field(default_factory=list)
    relation: str = ""

    @property
    def anchor(self) -> str:
        return "statement-" + self.iri.rsplit("/", 1)[-1]

    @property
    def speaker_name(self) -> str:
        if self.speaker:
            return self.speaker[1]
        return f"(unnamed: {self.speaker_text})" if self.speaker_text else "(narration)"

    @property
    def first(self) -> Sentence | None:
        return self.evidence[0] if self.evidence else None


def _details(store: GraphStore, kind: str, anchor: str, **bound) -> list[dict]:
    projected, pattern = _ANCHORS[anchor]
    node, branches = ("?event", _EVENT_BRANCHES) if kind == "event" else ("?statement", _STATEMENT_BRANCHES)
    union = "\n  UNION ".join(f"{{ {pattern} {node} prov:wasDerivedFrom ?article . {branch} }}" for branch in branches)
    sparql = f"SELECT {projected} {node} ?article ?key ?value ?label ?start WHERE {{\n  {union}\n}}"
    return _select(store, sparql, **bound)


def read_events(store: GraphStore, anchor: str, **bound) -> list[EventView]:
    """Events chosen by ``anchor`` (see _ANCHORS), with their roles and evidence sentences."""
    events: dict[str, EventView] = {}
    sentences: dict[str, dict[int, Sentence]] = {}
    for row in _details(store, "event", anchor, **bound):
        event = events.setdefault(row["event"], EventView(row["event"], row["article"]))
        key, value = row["key"], row["value"]
        if row.get("anchorRole"):
            roles = event.extra.setdefault("role", "")
            role = _local(row["anchorRole"])
            if role not in roles.split(", "):
                event.extra["role"] = ", ".join(filter(None, [roles, role]))
        if row.get("claims"):
            event.extra["claims"] = row["claims"]
        if value is None:
            continue
        if key == "type":
            event.type = min(event.type if event.type != "Event" else "~", _local(value))
        elif key in ("trigger", "count", "qualifier", "time", "headline"):
            setattr(event, key, value)
        elif key == "evidence":
            sentences.setdefault(event.iri, {})[_int(row["start"])] = Sentence(value, _int(row["start"]),
                                                                              row["article"])
        else:
            pairs = event.roles.setdefault(key, [])
            if (value, row["label"] or short_iri(value)) not in pairs:
                pairs.append((value, row["label"] or short_iri(value)))
    for event in events.values():
        event.evidence = [s for _, s in sorted(sentences.get(event.iri, {}).items())]
        for s in event.evidence:
            s.headline = event.headline
        for pairs in event.roles.values():
            pairs.sort(key=lambda pair: pair[1])
    return sorted(events.values(), key=lambda e: (e.article, e.first.start if e.first else 0, e.iri))


def read_statements(store: GraphStore, anchor: str, **bound) -> list[StatementView]:
    """Statements chosen by ``anchor`` (see _ANCHORS), with speaker, stance and evidence sentences."""
    statements: dict[str, StatementView] = {}
    sentences: dict[str, dict[int, Sentence]] = {}
    for row in _details(store, "statement", anchor, **bound):
        statement = statements.setdefault(row["statement"], StatementView(row["statement"], row["article"]))
        key, value = row["key"], row["value"]
        if value is None:
            continue
        if key == "stance":
            statement.stance = _local(value)
        elif key == "hedged":
            statement.hedged = value == "true"
        elif key == "hedge":
            statement.hedges.append(value)
        elif key == "about":
            statement.about.append(value)
        elif key == "speaker":
            statement.speaker = (value, row["label"] or short_iri(value))
        elif key == "speakerText":
            statement.speaker_text = value
        elif key == "evidence":
            sentences.setdefault(statement.iri, {})[_int(row["start"])] = Sentence(value, _int(row["start"]),
                                                                                  row["article"])
        elif key in ("verb", "content", "headline"):
            setattr(statement, key, value)
    statements = {iri: st for iri, st in statements.items() if st.stance != "statement"}
    for statement in statements.values():
        statement.evidence = [s for _, s in sorted(sentences.get(statement.iri, {}).items())]
        for s in statement.evidence:
            s.headline = statement.headline
        statement.hedges.sort()
        statement.about.sort()
    return sorted(statements.values(), key=lambda s: (s.article, s.first.start if s.first else 0, s.iri))


@dataclass
class Segment:
    """A piece of a sentence: plain text, or a mention linking to its entity."""

    text: str
    entity: str | None = None
    label: str | None = None
    kind: str | None = None
    subtype: str | None = None

    @property
    def href(self) -> str | None:
        return link_for(self.entity)


def _kind_and_subtype(classes: set[str]) -> tuple[str | None, str | None]:
    names = {_local(c) for c in classes if c.startswith(ONTOLOGY_IRI)}
    kind = next((k for k in ENTITY_KINDS if k in names), None)
    others = sorted(names - {*ENTITY_KINDS, "Entity"})
    subtype = _CLASS_SUBTYPE.get(others[0], others[0]) if others else None
    return kind, subtype


def split_sentence(text: str, start: int, mentions: list[dict]) -> list[Segment]:
    """The sentence as segments, mentions (offsets into the article) cut out of it; overlaps keep the first."""
    segments: list[Segment] = []
    position = 0
    for mention in sorted(mentions, key=lambda m: (m["start"], -m["end"])):
        begin, end = mention["start"] - start, mention["end"] - start
        if begin < position or end > len(text) or begin >= end:
            continue   # overlapping, or offsets that do not fit the stored sentence
        if begin > position:
            segments.append(Segment(text[position:begin]))
        segments.append(Segment(text[begin:end], mention["entity"], mention["label"], mention["kind"],
                                mention["subtype"]))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def read_home(store: GraphStore) -> dict:
    articles = []
    for row in _select(store, _LATEST_ARTICLES):
        key = _article_key(row["article"])
        if key and all(a["key"] != key for a in articles):
            articles.append({"key": key, "title": row["headline"] or row["identifier"] or key,
                             "published": row["published"], "publisher": row["publisher"]})
    entities: dict[str, dict] = {}
    for row in _select(store, _TOP_ENTITIES):
        entity = entities.setdefault(row["entity"], {"iri": row["entity"], "href": link_for(row["entity"]),
                                                     "label": row["label"] or short_iri(row["entity"]),
                                                     "kinds": set(), "mentions": _int(row["mentions"]),
                                                     "articles": _int(row["articles"])})
        entity["kinds"].add(row["type"])
    for entity in entities.values():
        entity["kind"] = _kind_and_subtype(entity.pop("kinds"))[0]
    return {"stats": store.stats(), "articles": articles, "entities": list(entities.values())}


def read_entity(store: GraphStore, iri: str) -> dict | None:
    """Everything the entity page shows; None when the store does not describe ``iri``."""
    entity = ox.NamedNode(iri)
    rows = _select(store, _ENTITY_DESCRIPTION, entity=entity)
    if not rows:
        return None
    labels, aliases, classes, same_as, links = [], [], set(), [], {}
    facts: dict[str, str] = {}
    for row in rows:
        name, value = _local(row["p"]), row["o"]
        if name == "prefLabel":
            labels.append(value)
        elif name == "altLabel":
            aliases.append(value)
        elif name == "type":
            classes.add(value)
        elif name == "sameAs":
            same_as.append(value)
        elif name in ("country", "region", "origin"):
            links[name] = (value, row["label"] or short_iri(value))
        elif name in ("natoReportingName", "wikidataId", "geonamesId"):
            facts[name] = value
    kind, subtype = _kind_and_subtype(classes)
    coordinates = None
    for row in _select(store, _ENTITY_GEOMETRY, entity=entity):
        if (point := _WKT_POINT.fullmatch(row["wkt"] or "")):
            coordinates = {"lat": float(point["lat"]), "lon": float(point["lon"]), "wkt": row["wkt"]}
    counts = _select(store, _ENTITY_MENTION_COUNT, entity=entity)
    mentions = []
    for row in _select(store, _ENTITY_MENTIONS, entity=entity):
        mention = {"start": _int(row["start"]), "end": _int(row["end"]), "entity": None, "label": None,
                   "kind": kind, "subtype": subtype}
        sentence = Sentence(row["sentenceText"], _int(row["sentenceStart"]), row["article"], row["headline"])
        mentions.append({"text": row["text"], "sentence": sentence,
                         "segments": split_sentence(sentence.text, sentence.start, [mention])})
    statements: dict[str, StatementView] = {}
    for anchor, relation in (("statement-speaker", "by"), ("statement-about", "about an event it takes part in"),
                             ("statement-mention", "in a sentence that mentions it")):
        for statement in read_statements(store, anchor, entity=entity):
            statement.relation = relation
            statements.setdefault(statement.iri, statement)
    return {
        "iri": iri, "label": min(labels) if labels else short_iri(iri), "aliases": sorted(set(aliases)),
        "kind": kind, "subtype": subtype, "links": links, "facts": facts,
        "same_as": [{"iri": s, "href": link_for(s), "name": _same_as_name(s)} for s in sorted(same_as)],
        "coordinates": coordinates,
        "mention_count": _int(counts[0]["mentions"]) if counts else 0,
        "article_count": _int(counts[0]["articles"]) if counts else 0,
        "mentions": mentions, "events": read_events(store, "event-entity", entity=entity)[:LIST_LIMIT],
        "statements": list(statements.values())[:LIST_LIMIT],
    }


def _same_as_name(iri: str) -> str:
    if iri.startswith(WIKIDATA_ENTITY):
        return "Wikidata " + iri[len(WIKIDATA_ENTITY):]
    if "geonames.org/" in iri:
        return "GeoNames " + iri.rstrip("/").rsplit("/", 1)[-1]
    return iri


def read_article(store: GraphStore, iri: str) -> dict | None:
    """The article's metadata, stored sentences with highlighted mentions, events and statements."""
    article = ox.NamedNode(iri)
    meta: dict[str, str] = {}
    for row in _select(store, _ARTICLE_META, article=article):
        meta.setdefault(_local(row["p"]), row["o"])
    if not meta:
        return None
    by_entity: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    mention_rows = _select(store, _ARTICLE_MENTIONS, article=article)
    for row in mention_rows:
        by_entity.setdefault(row["entity"], set())
        if row["class"]:
            by_entity[row["entity"]].add(row["class"])
        if row["label"] and (row["entity"] not in labels or row["label"] < labels[row["entity"]]):
            labels[row["entity"]] = row["label"]
    mentions: dict[tuple[int, int, str], dict] = {}
    for row in mention_rows:
        kind, subtype = _kind_and_subtype(by_entity[row["entity"]])
        key = (_int(row["start"]), _int(row["end"]), row["entity"])
        mentions[key] = {"start": key[0], "end": key[1], "entity": row["entity"],
                         "label": labels.get(row["entity"], short_iri(row["entity"])), "kind": kind,
                         "subtype": subtype}
    events = read_events(store, "event-article", article=article)
    statements = read_statements(store, "statement-article", article=article)
    marks: dict[int, list[str]] = {}
    for item in [*events, *statements]:
        for sentence in item.evidence:
            marks.setdefault(sentence.start, []).append(item.anchor)
    paragraphs: list[list[dict]] = []
    previous_end = None
    for row in _select(store, _ARTICLE_SENTENCES, article=article):
        start, end = _int(row["start"]), _int(row["end"])
        gap = None if previous_end is None else start - previous_end
        if previous_end is None or gap is None or gap >= 2:
            paragraphs.append([])
        if gap is not None and gap > _CONTIGUOUS:
            paragraphs[-1].append({"omitted": gap})
            paragraphs.append([])
        inside = [m for m in mentions.values() if start <= m["start"] < end]
        paragraphs[-1].append({"start": start, "end": end, "marks": marks.get(start, []),
                               "segments": split_sentence(row["text"], start, inside)})
        previous_end = max(end, previous_end or 0)
    url = meta.get("url")
    legend = sorted({(m["kind"] or "Entity", m["subtype"]) for m in mentions.values()},
                    key=lambda pair: (pair[0], pair[1] or ""))
    return {"iri": iri, "key": _article_key(iri), "headline": meta.get("headline"),
            "published": meta.get("datePublished"), "publisher": meta.get("publisher"),
            "identifier": meta.get("identifier"), "path": meta.get("sourcePath"),
            "url": url, "url_href": url if url and _HTTP_URL.fullmatch(url) else None,
            "paragraphs": paragraphs, "events": events, "statements": statements, "legend": legend,
            "mention_count": len(mentions)}


_CLAIMED_EVENTS = f"""
SELECT ?event (COUNT(DISTINCT ?statement) AS ?claims) WHERE {{ ?statement kg:about ?event }}
GROUP BY ?event ORDER BY DESC(?claims) STR(?event) LIMIT {CLAIM_EVENTS}"""


def read_claims(store: GraphStore, actor: str | None) -> dict:
    """The events most talked about with the statements about them, and the contradictions query."""
    groups = []
    for row in _select(store, _CLAIMED_EVENTS):
        event = ox.NamedNode(row["event"])
        found = read_events(store, "event-one", event=event)
        if found:
            groups.append({"event": found[0], "statements": read_statements(store, "statement-about-event",
                                                                            event=event)})
    contradictions = canned.canned_queries().get("contradictions")
    rows: list[dict] = []
    if contradictions is not None:
        result = canned.run(store, contradictions, {"actor": actor} if actor else {})
        rows = [dict(zip(result.variables, (canned.term_text(t) for t in row), strict=True))
                for row in result.rows[:LIST_LIMIT]]
    return {"groups": groups, "contradictions": rows, "actor": actor or ""}


# -- the app ---------------------------------------------------------------------------------------

class UI:
    """The pages and API of the UI, reading through the endpoint's worker slots and deadline."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.store = endpoint.graph_store
        self.environment = jinja2.Environment(loader=jinja2.PackageLoader("kg", "resources/ui/templates"),
                                              autoescape=True, undefined=jinja2.StrictUndefined)
        self.environment.filters.update(link=link_for, short_iri=short_iri, external=is_external)
        self.environment.globals.update(nav=_NAV)
        self._graphs: OrderedDict[tuple, bytes] = OrderedDict()

    # -- helpers ---------------------------------------------------------------------------------
    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in one of the endpoint's workers, given up at its timeout (503).

        The UI shares the endpoint's slots, so pages and SPARQL requests together never run more than
        ``workers`` queries at once."""
        return await self.endpoint._in_worker(_as_http_error, fn, args,
                                              deadline=time.monotonic() + self.endpoint.timeout)

    def _page(self, template: str, status: int = 200, **context: Any) -> Response:
        page = self.environment.get_template(template).render(**context)
        return Response(page, status_code=status, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    def _error_page(self, status: int, message: str, title: str = "Not found") -> Response:
        return self._page("error.html", status=status, title=title, message=message, section="")

    async def _guarded(self, handler: Callable[[], Any]) -> Response:
        try:
            return await handler()
        except HttpError as err:
            return self._error_page(err.status, err.message, "Could not answer")

    # -- pages -----------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        async def handle() -> Response:
            data = await self._read(read_home, self.store)
            return self._page("home.html", section="home", example=_EXAMPLE,
                              prefixes=" ".join(f"{p}:" for p in PREFIXES), store_path=str(self.endpoint.store_path),
                              mode="updates allowed" if self.endpoint.allow_update else "read-only", **data)

        return await self._guarded(handle)

    async def query_page(self, request: Request) -> Response:
        queries = [_describe(q) for q in canned.canned_queries().values()]
        params = dict(request.query_params)
        initial = {"name": params.pop("name", ""), "sparql": params.pop("sparql", ""), "params": params}
        return self._page("query.html", section="query", queries=queries, example=_EXAMPLE, id_base=ID,
                          canned_json=_script_json(queries), initial_json=_script_json(initial),
                          max_rows=self.endpoint.max_rows)

    async def entity_page(self, request: Request) -> Response:
        path = request.path_params["path"]
        if path.split("/", 1)[0] not in ENTITY_PATHS:
            return self._error_page(404, f"/entity/{path}: entity pages are /entity/actor/..., "
                                         "/entity/weaponsystem/... or /entity/place/...")
        iri = ID + path
        if not _is_iri(iri):
            return self._error_page(404, f"/entity/{path} names no IRI of this store")

        async def handle() -> Response:
            entity = await self._read(read_entity, self.store, iri)
            if entity is None:
                return self._error_page(404, f"the store has no entity {iri}; search for it on the query page "
                                             "(canned query: entities)")
            graph = "/ui/graph?" + urlencode({"focus": iri, "hops": 2, "max_nodes": 60})
            return self._page("entity.html", section="", entity=entity, graph_src=graph)

        return await self._guarded(handle)

    async def article_page(self, request: Request) -> Response:
        key = request.path_params["key"]
        if not _ARTICLE_KEY.fullmatch(key):
            return self._error_page(404, "article pages are /article/KEY, the last part of the article's IRI")

        async def handle() -> Response:
            article = await self._read(read_article, self.store, f"{ID}article/{key}")
            if article is None:
                return self._error_page(404, f"the store has no article {ID}article/{key}")
            return self._page("article.html", section="", article=article)

        return await self._guarded(handle)

    async def claims_page(self, request: Request) -> Response:
        actor = request.query_params.get("actor", "").strip() or None

        async def handle() -> Response:
            data = await self._read(read_claims, self.store, actor)
            return self._page("claims.html", section="claims", limit=CLAIM_EVENTS, **data)

        return await self._guarded(handle)

    async def resource(self, request: Request) -> Response:
        """Any IRI of the store -> the page showing it (events and statements: their first sentence)."""
        iri = request.query_params.get("iri", "")
        href = link_for(iri)
        if href and not href.startswith("/resource"):
            return RedirectResponse(href, status_code=303)
        match = _ARTICLE_IRI.match(iri)
        if not match or not _is_iri(iri):
            return self._error_page(404, "no page shows this IRI; look it up on the query page with DESCRIBE")
        key, rest = match["key"], match["rest"] or ""
        if (sentence := re.fullmatch(r"sentence/(\d+)-\d+", rest)):
            return RedirectResponse(f"/article/{key}#s-{sentence[1]}", status_code=303)

        def first_sentence() -> int | None:
            rows = _select(self.store, "SELECT ?node ?start WHERE { { ?node kg:evidence/kg:start ?start } UNION "
                                       "{ ?node kg:sentence/kg:start ?start } } ORDER BY ?start LIMIT 1",
                           node=ox.NamedNode(iri))
            return _int(rows[0]["start"]) if rows else None

        async def handle() -> Response:
            start = await self._read(first_sentence)
            return RedirectResponse(f"/article/{key}" + (f"#s-{start}" if start is not None else ""),
                                    status_code=303)

        return await self._guarded(handle)

    async def types_css(self, request: Request) -> Response:
        """Colours of entity kinds and subtypes, the same as ``kg viz`` draws them."""
        from kg.viz import COLOURS

        lines = []
        for kind, palette in COLOURS.items():
            for subtype, colour in palette.items():
                selector = f".k-{kind}" + (f".s-{subtype}" if subtype else "")
                lines.append(f"{selector} {{ --kc: {colour}; }}")
        return Response("\n".join(lines) + "\n", media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "max-age=3600"})

    # -- API -------------------------------------------------------------------------------------
    async def api_queries(self, request: Request) -> Response:
        return JSONResponse([_describe(q) for q in canned.canned_queries().values()])

    async def api_query(self, request: Request) -> Response:
        """Run a canned query with its parameters bound (never pasted): JSON, CSV or TSV."""
        name = request.path_params["name"]
        options = {k: request.query_params.get(k, "") for k in _API_OPTIONS}
        if request.method == "POST":
            try:
                body = json.loads(await request.body() or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                return _api_error(400, f"the request body is not JSON ({err}); send {{\"params\": {{...}}}}")
            if not isinstance(body, dict) or not isinstance(body.get("params", {}), dict):
                return _api_error(400, "send a JSON object like {\"params\": {\"weapon\": \"S-400\"}}")
            values = body.get("params", {})
            options.update({k: str(body[k]) for k in _API_OPTIONS if k in body})
        else:
            values = {k: v for k, v in request.query_params.items() if k not in _API_OPTIONS}
        if not all(isinstance(v, str) for v in values.values()):
            return _api_error(400, "parameter values must be strings")
        values = {k: v for k, v in values.items() if v.strip()}   # an empty form field is a left-out parameter
        fmt = (options["format"] or "json").lower()
        if fmt not in ("json", "csv", "tsv"):
            return _api_error(400, f"format={fmt!r}: use json, csv or tsv")
        queries = canned.canned_queries()
        if name not in queries:
            return _api_error(404, f"no canned query {name!r}; the list is at /api/queries")
        query = queries[name]
        if canned.has_service(query):
            return _api_error(400, f"{name} asks a remote SPARQL service (it needs the network); the UI runs "
                                   "local queries only. Use: kg query " + name)

        def run() -> canned.QueryResult:
            try:
                return canned.run(self.store, query, values)
            except QueryError as err:
                raise HttpError(400, str(err)) from None

        try:
            result = await self._read(run)
        except HttpError as err:
            return _api_error(err.status, err.message)
        truncated = len(result.rows) > self.endpoint.max_rows
        if truncated:
            result = canned.QueryResult(result.variables, result.rows[:self.endpoint.max_rows], result.boolean)
        body = canned.render(result, fmt)
        media_type = {"json": "application/sparql-results+json", "csv": "text/csv",
                      "tsv": "text/tab-separated-values"}[fmt]
        headers = {MAX_ROWS_HEADER: str(self.endpoint.max_rows), TRUNCATED_HEADER: "true" if truncated else "false",
                   "X-Content-Type-Options": "nosniff"}
        if options["download"] not in ("", "0", "false"):
            headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return Response(body, media_type=f"{media_type}; charset=utf-8", headers=headers)

    async def graph(self, request: Request) -> Response:
        """The ``kg viz`` page for an entity (``focus=IRI``), a canned query's results (``name=`` and
        ``param.NAME=``) or a SELECT's results (``sparql=``), for the UI's iframes."""
        params = request.query_params
        hops = max(0, min(_int(params.get("hops"), 1), 3))
        budget = max(10, min(_int(params.get("max_nodes"), GRAPH_NODES), 1500))
        focus, name, text = params.get("focus"), params.get("name"), params.get("sparql")
        values = {k.removeprefix("param."): v for k, v in params.items() if k.startswith("param.") and v.strip()}
        if sum(bool(x) for x in (focus, name, text)) != 1:
            return PlainTextResponse("give one of focus=IRI, name=CANNED-QUERY or sparql=SELECT...\n", status_code=400)
        if text and _is_update(text):
            return PlainTextResponse("updates cannot be drawn\n", status_code=403)
        key = (focus, name, tuple(sorted(values.items())), text, hops, budget, len(self.endpoint.store))
        if key in self._graphs:
            self._graphs.move_to_end(key)
            return _graph_response(self._graphs[key])

        def render() -> bytes:
            from kg import viz

            seeds = None
            try:
                if name:
                    queries = canned.canned_queries()
                    if name not in queries or canned.has_service(queries[name]):
                        raise HttpError(404, f"no local canned query {name!r}")
                    result = canned.run(self.store, queries[name], values)
                    seeds = sorted({canned.term_text(t) for row in result.rows for t in row if t is not None})
                elif text:
                    solutions = self.store.query(text)
                    if not isinstance(solutions, ox.QuerySolutions):
                        raise HttpError(400, "only SELECT results can be drawn")
                    seeds = sorted({t.value for s in islice(solutions, self.endpoint.max_rows)
                                    for t in s if isinstance(t, ox.NamedNode | ox.Literal)})
                graph, _ = viz.project(self.store, focus=focus, hops=hops, seeds=seeds, node_budget=budget)
            except (KgError, SyntaxError) as err:
                raise HttpError(400, str(err)) from None
            title = f"kg: {name or 'query results'}" if focus is None else "kg: neighbourhood"
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / "graph.html"
                viz.render_html(graph, path, title)
                return path.read_bytes()

        try:
            page = await self._read(render)
        except HttpError as err:
            return PlainTextResponse(err.message + "\n", status_code=err.status)
        self._graphs[key] = page
        while len(self._graphs) > _GRAPH_CACHE:
            self._graphs.popitem(last=False)
        return _graph_response(page)


def _graph_response(page: bytes) -> Response:
    # The page carries its own CSP (script hashes) in a meta element; no header may loosen or contradict it.
    return Response(page, media_type="text/html; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


def _api_error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _as_http_error(fn: Callable[..., Any], args: tuple) -> Any:
    """Call ``fn``; store errors become an HttpError the page can show (in the worker thread)."""
    try:
        return fn(*args)
    except HttpError:
        raise
    except QueryError as err:
        raise HttpError(400, str(err)) from None
    except (OSError, SyntaxError, KgError) as err:
        raise HttpError(500, f"reading the store failed: {err}") from None


def _describe(query: canned.CannedQuery) -> dict:
    return {"name": query.name, "answers": query.answers, "network": canned.has_service(query),
            "params": [{"name": p.name, "kind": p.kind, "required": p.required, "doc": p.doc} for p in query.params],
            "sparql": query.text}


def _script_json(value: Any) -> str:
    from markupsafe import Markup

    from kg.viz import _script_json as script_safe

    return Markup(script_safe(value))


def _is_iri(value: str) -> bool:
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


_NAV = (("home", "/", "Home"), ("query", "/query", "Query"), ("claims", "/claims", "Claims"),
        ("endpoint", "/endpoint", "SPARQL endpoint"))


def ui_routes(endpoint: Endpoint) -> list[BaseRoute]:
    """The UI's routes, reading the store ``endpoint`` opened (mounted by kg.serve.create_app)."""
    ui = UI(endpoint)
    return [
        Route("/", ui.home, methods=["GET"]),
        Route("/query", ui.query_page, methods=["GET"]),
        Route("/entity/{path:path}", ui.entity_page, methods=["GET"]),
        Route("/article/{key}", ui.article_page, methods=["GET"]),
        Route("/claims", ui.claims_page, methods=["GET"]),
        Route("/resource", ui.resource, methods=["GET"]),
        Route("/api/queries", ui.api_queries, methods=["GET"]),
        Route("/api/query/{name}", ui.api_query, methods=["GET", "POST"]),
        Route("/ui/graph", ui.graph, methods=["GET"]),
        Route("/ui/types.css", ui.types_css, methods=["GET"]),
        Mount("/ui/static", StaticFiles(packages=[("kg", "resources/ui/static")]), name="ui-static"),
        Mount("/ui/vendor", StaticFiles(packages=[("kg", "resources/ui/vendor")]), name="ui-vendor"),
    ]


__all__ = ["ui_routes", "link_for", "read_article", "read_entity", "read_claims", "read_home", "CSP"]
