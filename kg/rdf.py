"""The one place that knows the ontology's IRIs, and the mapping of an ``Extraction`` to quads.

Facts from an article go into that article's named graph; descriptions of entities (labels, types,
external ids) go once into the shared entity graph, so one entity has one IRI across articles and
labels are not copied into every article graph (a join over copied labels was 10x slower).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

import pyoxigraph as ox
from rdflib import Namespace
from rdflib.namespace import DefinedNamespace

from kg.model import Article, Entity, Event, Extraction, Mention, Statement

BASE = "https://w3id.org/conflict-kg/"
ONTOLOGY_IRI = BASE + "ontology#"
ID = BASE + "id/"
ENTITY_GRAPH = BASE + "graph/entities"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
WIKIDATA_DIRECT = "http://www.wikidata.org/prop/direct/"  # wdt: truthy statements, in Query Service queries
#: The Wikidata Query Service, as canned queries spell it in SERVICE (kg query --service-endpoint maps it).
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
GEONAMES = "https://sws.geonames.org/"


class KG(DefinedNamespace):
    """Terms of ontologies/conflict.ttl; a typo raises instead of minting a new term."""

    _NS = Namespace(ONTOLOGY_IRI)
    _fail = True
    # entity classes
    Entity: object
    Actor: object
    WeaponSystem: object
    Place: object
    State: object
    ArmedForce: object
    GovernmentBody: object
    InternationalOrganization: object
    NonStateArmedGroup: object
    Person: object
    MediaOutlet: object
    SurfaceToAirMissileSystem: object
    UnmannedAerialVehicle: object
    BallisticMissile: object
    CruiseMissile: object
    Aircraft: object
    Artillery: object
    RocketArtillery: object
    ArmoredVehicle: object
    Ship: object
    OtherWeaponSystem: object
    Country: object
    Region: object
    City: object
    Facility: object
    WaterBody: object
    OtherPlace: object
    # events
    Event: object
    Attack: object
    Interception: object
    Deployment: object
    Casualties: object
    TerritorialChange: object
    MilitaryAid: object
    Launch: object
    Exercise: object
    # statements and evidence
    Statement: object
    Stance: object
    StanceScheme: object
    assert_: object
    deny: object
    accuse: object
    call: object
    concern: object
    Sentence: object
    Mention: object
    Quantity: object
    # properties
    agent: object
    target: object
    weapon: object
    place: object
    count: object
    countQualifier: object
    countText: object
    timeText: object
    trigger: object
    evidence: object
    speaker: object
    speakerText: object
    reportingVerb: object
    stance: object
    hedged: object
    hedgeCue: object
    content: object
    about: object
    citesSource: object
    sentence: object
    inArticle: object
    text: object
    start: object
    end: object
    refersTo: object
    wikidataId: object
    geonamesId: object
    country: object
    region: object
    catalogKey: object
    partOf: object
    origin: object
    natoReportingName: object
    contentHash: object
    publishedDay: object
    sourcePath: object
    entityType: object
    # online linking (kg link --online): the link's evidence, and what Wikidata adds
    EntityLink: object
    externalLink: object
    linkTarget: object
    linkConfidence: object
    linkMethod: object
    linkMatchedName: object
    operator: object


# pyoxigraph terms for the hot path (rdflib terms are for users and SHACL).
def _kg(name: str) -> ox.NamedNode:
    return ox.NamedNode(ONTOLOGY_IRI + name)


RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS = "http://www.w3.org/2004/02/skos/core#"
SKOS_PREF = ox.NamedNode(SKOS + "prefLabel")
SKOS_ALT = ox.NamedNode(SKOS + "altLabel")
OWL_SAME_AS = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
PROV = "http://www.w3.org/ns/prov#"
PROV_DERIVED = ox.NamedNode(PROV + "wasDerivedFrom")
PROV_ATTRIBUTED = ox.NamedNode(PROV + "wasAttributedTo")
PROV_GENERATED_AT = ox.NamedNode(PROV + "generatedAtTime")
SEM = "http://semanticweb.cs.vu.nl/2009/11/sem/"
SEM_TIMESTAMP = ox.NamedNode(SEM + "hasTimeStamp")
SEM_BEGIN = ox.NamedNode(SEM + "hasBeginTimeStamp")
SEM_END = ox.NamedNode(SEM + "hasEndTimeStamp")
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DATE = ox.NamedNode(XSD + "date")
XSD_INT = ox.NamedNode(XSD + "integer")
XSD_BOOL = ox.NamedNode(XSD + "boolean")
XSD_DECIMAL = ox.NamedNode(XSD + "decimal")
XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
GEO = "http://www.opengis.net/ont/geosparql#"
GEO_HAS_GEOMETRY = ox.NamedNode(GEO + "hasGeometry")
GEO_GEOMETRY = ox.NamedNode(GEO + "Geometry")
GEO_AS_WKT = ox.NamedNode(GEO + "asWKT")
GEO_WKT = ox.NamedNode(GEO + "wktLiteral")

PREFIXES = {
    "kg": ONTOLOGY_IRI, "kgid": ID, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "skos": SKOS, "owl": "http://www.w3.org/2002/07/owl#",
    "prov": PROV, "sem": SEM, "schema": SCHEMA, "xsd": XSD, "wd": WIKIDATA_ENTITY,
    "geo": GEO, "dcterms": "http://purl.org/dc/terms/",
}

#: JSON subtype -> ontology class name (the two "Other"s are distinct classes).
SUBTYPE_CLASS = {("WeaponSystem", "Other"): "OtherWeaponSystem", ("Place", "Other"): "OtherPlace"}
STANCE_CONCEPT = {"assert": "assert", "deny": "deny", "accuse": "accuse", "call": "call", "concern": "concern"}


def stance_iri(stance: str) -> str:
    return ONTOLOGY_IRI + STANCE_CONCEPT[stance]


def class_for(type_: str, subtype: str | None) -> str | None:
    if not subtype:
        return None
    return SUBTYPE_CLASS.get((type_, subtype), subtype)


def slug(text: str) -> str:
    """A readable, stable IRI segment: "Ménaka region" -> "menaka-region"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return s or hashlib.sha256(text.encode()).hexdigest()[:12]


def entity_iri(type_: str, key: str) -> str:
    """Entities: catalogue key when catalogued, else type + slug of the label (shared across articles)."""
    return f"{ID}{type_.lower()}/{key}"


def article_key(article_id: str) -> str:
    return hashlib.sha256(article_id.encode("utf-8")).hexdigest()[:20]


def article_iri(article: Article) -> str:
    return f"{ID}article/{article_key(article.id)}"


def _lit(value: str) -> ox.Literal:
    return ox.Literal(value)


def _sentence_node(art: str, m: Mention) -> ox.NamedNode:
    return ox.NamedNode(f"{art}/sentence/{m.start}-{m.end}")


def to_quads(extraction: Extraction) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """(article-graph quads, shared entity-graph quads) for one extraction."""
    article = extraction.article
    art = article_iri(article)
    graph = ox.NamedNode(art)
    shared = ox.NamedNode(ENTITY_GRAPH)
    a_node = ox.NamedNode(art)
    quads: list[ox.Quad] = []
    add = quads.append

    def q(s: ox.NamedNode, p: ox.NamedNode, o) -> None:
        add(ox.Quad(s, p, o, graph))

    q(a_node, RDF_TYPE, ox.NamedNode(SCHEMA + "NewsArticle"))
    q(a_node, ox.NamedNode(SCHEMA + "identifier"), _lit(article.id))
    if article.title:
        q(a_node, ox.NamedNode(SCHEMA + "headline"), _lit(article.title))
    if article.source:
        q(a_node, ox.NamedNode(SCHEMA + "publisher"), _lit(article.source))
    if article.url:
        q(a_node, ox.NamedNode(SCHEMA + "url"), ox.NamedNode(article.url) if _is_iri(article.url)
          else _lit(article.url))
    if article.published:
        q(a_node, ox.NamedNode(SCHEMA + "datePublished"), ox.Literal(article.published, datatype=XSD_DATE))
        day = _day_number(article.published)
        if day is not None:
            q(a_node, _kg("publishedDay"), ox.Literal(str(day), datatype=XSD_INT))
    if article.path:
        q(a_node, _kg("sourcePath"), _lit(article.path))
    q(a_node, _kg("contentHash"), _lit(hashlib.sha256(article.text.encode("utf-8")).hexdigest()))

    # Sentences that carry evidence or mentions get a node each.
    sentence_of = _sentence_index(extraction.sentences)
    used: dict[tuple[int, int], Mention] = {}

    def sentence_for(m: Mention) -> ox.NamedNode:
        sent = sentence_of(m.start)
        used[(sent.start, sent.end)] = sent
        return _sentence_node(art, sent)

    for entity in extraction.entities:
        e_node = ox.NamedNode(entity.id)
        for i, mention in enumerate(entity.mentions):
            m_node = ox.NamedNode(f"{art}/mention/{mention.start}-{mention.end}-{i}")
            q(m_node, RDF_TYPE, _kg("Mention"))
            q(m_node, _kg("refersTo"), e_node)
            q(m_node, _kg("text"), _lit(mention.text))
            q(m_node, _kg("start"), ox.Literal(str(mention.start), datatype=XSD_INT))
            q(m_node, _kg("end"), ox.Literal(str(mention.end), datatype=XSD_INT))
            q(m_node, _kg("sentence"), sentence_for(mention))

    for event in extraction.events:
        _event_quads(event, q, a_node, art, sentence_for)
    for statement in extraction.statements:
        _statement_quads(statement, q, a_node, art)
        sentence_for(statement.sentence)

    for (start, end), sent in sorted(used.items()):
        s_node = _sentence_node(art, sent)
        q(s_node, RDF_TYPE, _kg("Sentence"))
        q(s_node, _kg("text"), _lit(sent.text))
        q(s_node, _kg("start"), ox.Literal(str(start), datatype=XSD_INT))
        q(s_node, _kg("end"), ox.Literal(str(end), datatype=XSD_INT))
        q(s_node, _kg("inArticle"), a_node)

    entity_quads = [quad for e in extraction.entities for quad in entity_description(e, shared)]
    return quads, entity_quads


def entity_description(entity: Entity, graph: ox.NamedNode) -> list[ox.Quad]:
    """Label, types and external ids of an entity, for the shared entity graph."""
    node = ox.NamedNode(entity.id)
    out = [ox.Quad(node, RDF_TYPE, _kg("Entity"), graph),
           ox.Quad(node, RDF_TYPE, _kg(entity.type), graph),
           ox.Quad(node, SKOS_PREF, ox.Literal(entity.label, language="en"), graph),
           ox.Quad(node, RDFS_LABEL, ox.Literal(entity.label, language="en"), graph)]
    cls = class_for(entity.type, entity.subtype)
    if cls:
        out.append(ox.Quad(node, RDF_TYPE, _kg(cls), graph))
    for alias in entity.aliases:
        if alias != entity.label:
            out.append(ox.Quad(node, SKOS_ALT, ox.Literal(alias, language="en"), graph))
    if entity.wikidata:
        out.append(ox.Quad(node, OWL_SAME_AS, ox.NamedNode(WIKIDATA_ENTITY + entity.wikidata), graph))
        out.append(ox.Quad(node, _kg("wikidataId"), _lit(entity.wikidata), graph))
    if entity.geonames:
        out.append(ox.Quad(node, OWL_SAME_AS, ox.NamedNode(f"{GEONAMES}{entity.geonames}/"), graph))
        out.append(ox.Quad(node, _kg("geonamesId"), _lit(entity.geonames), graph))
    if entity.country and entity.country != entity.id:
        out.append(ox.Quad(node, _kg("country"), ox.NamedNode(entity.country), graph))
    if entity.region and entity.region != entity.id:
        out.append(ox.Quad(node, _kg("region"), ox.NamedNode(entity.region), graph))
    if entity.origin:
        out.append(ox.Quad(node, _kg("origin"), ox.NamedNode(entity.origin), graph))
    if entity.nato_name:
        out.append(ox.Quad(node, _kg("natoReportingName"), _lit(entity.nato_name), graph))
    if entity.lat is not None and entity.lon is not None:
        # GeoSPARQL's WKT without a CRS is CRS84: longitude first. A named geometry node (not a
        # blank node) keeps re-building the same entity idempotent.
        geometry = ox.NamedNode(f"{entity.id}/geometry")
        out.append(ox.Quad(node, GEO_HAS_GEOMETRY, geometry, graph))
        out.append(ox.Quad(geometry, RDF_TYPE, GEO_GEOMETRY, graph))
        out.append(ox.Quad(geometry, GEO_AS_WKT, ox.Literal(wkt_point(entity.lon, entity.lat), datatype=GEO_WKT),
                           graph))
    return out


def _day_number(published: str) -> int | None:
    """Days since 0001-01-01 of a publication date: an integer that queries can shift and join on
    ("reported within two days"), which Oxigraph cannot do with xsd:date arithmetic."""
    try:
        return date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return None


def wkt_point(lon: float, lat: float) -> str:
    """A WKT point in GeoSPARQL's default CRS84 order: "POINT(36.18457 51.72689)"."""
    return f"POINT({round(lon, 6)} {round(lat, 6)})"


def _event_quads(event: Event, q, a_node: ox.NamedNode, art: str, sentence_for) -> None:
    e_node = ox.NamedNode(event.id)
    q(e_node, RDF_TYPE, _kg("Event"))
    q(e_node, RDF_TYPE, _kg(event.type))
    q(e_node, PROV_DERIVED, a_node)
    if event.trigger:
        q(e_node, _kg("trigger"), _lit(event.trigger))
    if event.agent:
        q(e_node, _kg("agent"), ox.NamedNode(event.agent))
    if event.target:
        q(e_node, _kg("target"), ox.NamedNode(event.target))
    for weapon in event.weapons:
        q(e_node, _kg("weapon"), ox.NamedNode(weapon))
    for place in event.places:
        q(e_node, _kg("place"), ox.NamedNode(place))
    if event.quantity is not None:
        if event.quantity.value is not None:
            q(e_node, _kg("count"), ox.Literal(str(event.quantity.value), datatype=XSD_INT))
        q(e_node, _kg("countQualifier"), _lit(event.quantity.qualifier))
        if event.quantity.text:
            q(e_node, _kg("countText"), _lit(event.quantity.text))
    if event.time is not None:
        q(e_node, _kg("timeText"), _lit(event.time.text))
        if event.time.value and "/" in event.time.value:
            begin, end = event.time.value.split("/", 1)
            q(e_node, SEM_BEGIN, ox.Literal(begin, datatype=XSD_DATE))
            q(e_node, SEM_END, ox.Literal(end, datatype=XSD_DATE))
        elif event.time.value:
            q(e_node, SEM_TIMESTAMP, ox.Literal(event.time.value, datatype=XSD_DATE))
    for m in event.evidence or (event.sentence,):
        q(e_node, _kg("evidence"), sentence_for(m))


def _statement_quads(statement: Statement, q, a_node: ox.NamedNode, art: str) -> None:
    s_node = ox.NamedNode(statement.id)
    q(s_node, RDF_TYPE, _kg("Statement"))
    q(s_node, PROV_DERIVED, a_node)
    q(s_node, _kg("stance"), ox.NamedNode(stance_iri(statement.stance)))
    q(s_node, _kg("reportingVerb"), _lit(statement.verb))
    q(s_node, _kg("hedged"), ox.Literal("true" if statement.hedged else "false", datatype=XSD_BOOL))
    for cue in statement.hedges:
        q(s_node, _kg("hedgeCue"), _lit(cue))
    if statement.speaker:
        q(s_node, _kg("speaker"), ox.NamedNode(statement.speaker))
    if statement.speaker_text:
        q(s_node, _kg("speakerText"), _lit(statement.speaker_text))
    if statement.content:
        q(s_node, _kg("content"), _lit(statement.content))
    for event in statement.about:
        q(s_node, _kg("about"), ox.NamedNode(event))
    for source in statement.sources:
        q(s_node, _kg("citesSource"), ox.NamedNode(source))
    q(s_node, _kg("evidence"), _sentence_node(art, statement.sentence))


def _sentence_index(sentences: tuple[Mention, ...]):
    """Return a function: character offset -> the sentence containing it."""
    import bisect

    starts = [s.start for s in sentences]

    def find(offset: int) -> Mention:
        i = bisect.bisect_right(starts, offset) - 1
        if 0 <= i < len(sentences) and sentences[i].start <= offset < max(sentences[i].end, offset + 1):
            return sentences[i]
        if 0 <= i < len(sentences):
            return sentences[i]
        raise ValueError(f"offset {offset} lies in no sentence")

    return find


_IRI_OK = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


def _is_iri(value: str) -> bool:
    return bool(_IRI_OK.match(value))


def vocabulary_terms() -> list[str]:
    """Every term this module uses from our namespace (a test checks each is declared)."""
    names = [n for n in KG.__annotations__ if not n.startswith("_")]
    return [ONTOLOGY_IRI + ("assert" if n == "assert_" else n) for n in names]
