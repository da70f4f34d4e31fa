"""Online linking (``kg link --online``): Wikidata items for the entities the catalogue could not link.

An entity with no Wikidata ``owl:sameAs`` is looked up by its label (``wbsearchentities``), the
candidates are read (``wbgetentities``) and type-checked in the Query Service (a weapon system links
only to a weapon, a place only to a place...), then scored (``kg.wikidata.score_candidates``). The best
candidate at or above the threshold is linked: ``owl:sameAs`` and ``kg:wikidataId`` as the catalogue
writes them, plus a ``kg:EntityLink`` record with confidence, method, matched name and time, and what
Wikidata adds: labels in other languages, NATO reporting name, operators, state of origin, and for
places the GeoNames id and point when the gazetteer found none.

Only the shared entity graph is written. Every lookup is made before anything is written and all links
go in one transaction, so a failure (network down, a server answering garbage) leaves the store as it
was, and the client's cache makes the next attempt cheap. Entities already linked are not looked up
again and the quads are a set, so running it twice is the same as running it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import StoreError
from kg.rdf import (
    ENTITY_GRAPH,
    GEO_AS_WKT,
    GEO_GEOMETRY,
    GEO_HAS_GEOMETRY,
    GEO_WKT,
    GEONAMES,
    KG,
    OWL_SAME_AS,
    PROV_GENERATED_AT,
    RDF_TYPE,
    RDFS_LABEL,
    SKOS_ALT,
    SKOS_PREF,
    SUBTYPE_CLASS,
    WIKIDATA_ENTITY,
    XSD_DATETIME,
    XSD_DECIMAL,
    wkt_point,
)
from kg.store import GraphStore
from kg.wikidata import (
    DEFAULT_THRESHOLD,
    LABEL_LANGUAGES,
    Candidate,
    ItemFacts,
    WikidataClient,
    accepted_classes,
    score_candidates,
)

METHOD = "wikidata-search+type-check"
ENTITY_TYPES = ("Actor", "WeaponSystem", "Place")
_MAX_ALIASES_PER_LANGUAGE = 10
_SUBTYPE_OF_CLASS = {cls: subtype for (_, subtype), cls in SUBTYPE_CLASS.items()}


def _node(term) -> ox.NamedNode:
    """A KG namespace term (rdflib URIRef) as a pyoxigraph node."""
    return ox.NamedNode(str(term))


@dataclass(frozen=True, slots=True)
class UnlinkedEntity:
    """An entity of the store without a Wikidata id, with what it already has (not to be overwritten)."""

    iri: str
    label: str
    type: str
    subtype: str | None = None
    country: str | None = None          # Q-id of the state a place lies in, from its kg:country
    has: frozenset[str] = frozenset()   # of "geonames", "geometry", "origin", "nato"


@dataclass(frozen=True, slots=True)
class Proposal:
    """The lookup of one entity: the candidate to link (None when none is good enough) and all scored."""

    entity: UnlinkedEntity
    best: Candidate | None
    candidates: tuple[Candidate, ...] = ()
    facts: ItemFacts | None = None      # of ``best``


@dataclass
class LinkReport:
    proposals: list[Proposal] = field(default_factory=list)
    quads: int = 0                      # quads written (0 for a dry run)
    requests: int = 0                   # HTTP requests sent
    cache_hits: int = 0

    @property
    def linked(self) -> list[Proposal]:
        return [p for p in self.proposals if p.best is not None]


def find_unlinked(store: GraphStore, types: Sequence[str] = ENTITY_TYPES) -> list[UnlinkedEntity]:
    """Entities of the given types in the entity graph that have no Wikidata owl:sameAs, by label."""
    values = " ".join(f"<{KG[t]}>" for t in types if t in ENTITY_TYPES)
    if not values:
        return []
    top = ", ".join(f"<{KG[t]}>" for t in ("Entity", *ENTITY_TYPES))
    rows = store.store.query(f"""
        SELECT ?e ?label ?type ?class ?countryItem ?geonames ?geometry ?origin ?nato WHERE {{
          GRAPH <{ENTITY_GRAPH}> {{
            ?e a <{KG.Entity}> ; <{SKOS_PREF.value}> ?label ; a ?type .
            VALUES ?type {{ {values} }}
            FILTER NOT EXISTS {{ ?e <{OWL_SAME_AS.value}> ?same . FILTER(STRSTARTS(STR(?same), "{WIKIDATA_ENTITY}")) }}
            OPTIONAL {{ ?e a ?class . FILTER(?class NOT IN ({top})) }}
            OPTIONAL {{ ?e <{KG.country}>/<{OWL_SAME_AS.value}> ?countryItem .
                        FILTER(STRSTARTS(STR(?countryItem), "{WIKIDATA_ENTITY}")) }}
            OPTIONAL {{ ?e <{KG.geonamesId}> ?geonames }}
            OPTIONAL {{ ?e <{GEO_HAS_GEOMETRY.value}> ?geometry }}
            OPTIONAL {{ ?e <{KG.origin}> ?origin }}
            OPTIONAL {{ ?e <{KG.natoReportingName}> ?nato }}
          }}
        }}""")
    found: dict[str, UnlinkedEntity] = {}
    for row in rows:
        iri = row["e"].value
        if iri in found:
            continue
        class_name = row["class"].value.rsplit("#", 1)[-1] if row["class"] is not None else None
        country = row["countryItem"].value[len(WIKIDATA_ENTITY):] if row["countryItem"] is not None else None
        has = frozenset(name for name in ("geonames", "geometry", "origin", "nato") if row[name] is not None)
        found[iri] = UnlinkedEntity(iri=iri, label=row["label"].value, type=row["type"].value.rsplit("#", 1)[-1],
                                    subtype=_SUBTYPE_OF_CLASS.get(class_name, class_name), country=country, has=has)
    return sorted(found.values(), key=lambda e: (e.type, e.label.casefold(), e.iri))


def propose(client: WikidataClient, entities: Iterable[UnlinkedEntity], threshold: float = DEFAULT_THRESHOLD,
            on_entity: Callable[[UnlinkedEntity], None] | None = None) -> list[Proposal]:
    """Look each entity up (search, read, type-check, score); nothing is written."""
    proposals = []
    for entity in entities:
        results = client.search(entity.label)
        if not results:
            proposals.append(Proposal(entity, None))
        else:
            ids = [r["id"] for r in results]
            facts = client.entities(ids)
            typed = client.of_classes(ids, accepted_classes(entity.type, entity.subtype))
            candidates = score_candidates(entity.label, results, facts, typed, entity.country)
            best = candidates[0] if candidates and candidates[0].confidence >= threshold else None
            proposals.append(Proposal(entity, best, tuple(candidates), facts.get(best.qid) if best else None))
        if on_entity is not None:
            on_entity(entity)
    return proposals


def link_online(store: GraphStore, client: WikidataClient, *, threshold: float = DEFAULT_THRESHOLD,
                types: Sequence[str] = ENTITY_TYPES, limit: int | None = None, dry_run: bool = False,
                on_start: Callable[[int], None] | None = None,
                on_entity: Callable[[UnlinkedEntity], None] | None = None) -> LinkReport:
    """Link the store's unlinked entities to Wikidata and enrich them, in one transaction (or not, dry run)."""
    entities = find_unlinked(store, types)[:limit]
    if on_start is not None:
        on_start(len(entities))
    proposals = propose(client, entities, threshold, on_entity)
    report = LinkReport(proposals)
    linked = report.linked
    if linked and not dry_run:
        local = _local_entities_by_item(store)
        local.update({p.best.iri: p.entity.iri for p in linked})
        referenced = {qid for p in linked for qid in (*p.facts.operators, *p.facts.origin_countries[:1])}
        unnamed = sorted(q for q in referenced if WIKIDATA_ENTITY + q not in local)
        labels = {qid: facts.labels.get("en") for qid, facts in client.entities(unnamed, ("en",)).items()}
        quads = link_quads(linked, local, labels, now=dt.datetime.now(dt.UTC))
        try:
            store.store.extend(quads)
        except OSError as err:
            raise StoreError(f"{store.path}: writing the links failed ({err}); the store keeps its previous "
                             "state") from None
        store.flush()
        report.quads = len(quads)
    report.requests, report.cache_hits = client.requests, client.cache_hits
    return report


def _local_entities_by_item(store: GraphStore) -> dict[str, str]:
    """Wikidata item IRI -> our entity linked to it, so operators and origins point at our own entities."""
    rows = store.store.query(f"""SELECT ?item ?e WHERE {{ GRAPH <{ENTITY_GRAPH}> {{
        ?e a <{KG.Entity}> ; <{OWL_SAME_AS.value}> ?item . FILTER(STRSTARTS(STR(?item), "{WIKIDATA_ENTITY}")) }} }}
        ORDER BY ?e""")
    local: dict[str, str] = {}
    for row in rows:
        local.setdefault(row["item"].value, row["e"].value)
    return local


def link_quads(linked: Sequence[Proposal], local: dict[str, str], labels: dict[str, str | None],
               now: dt.datetime) -> list[ox.Quad]:
    """The entity-graph quads for accepted proposals: link, link record, labels and enrichment.

    ``local`` maps Wikidata item IRIs to our entities; ``labels`` gives English labels of the items
    that operators and origins point to when no entity of ours stands for them."""
    graph = ox.NamedNode(ENTITY_GRAPH)
    quads: list[ox.Quad] = []

    def add(s: ox.NamedNode, p: ox.NamedNode, o) -> None:
        quads.append(ox.Quad(s, p, o, graph))

    described: set[str] = set()

    def target(qid: str) -> ox.NamedNode:
        iri = WIKIDATA_ENTITY + qid
        if iri in local:
            return ox.NamedNode(local[iri])
        label = labels.get(qid)
        if label and iri not in described:
            described.add(iri)
            add(ox.NamedNode(iri), RDFS_LABEL, ox.Literal(label, language="en"))
            add(ox.NamedNode(iri), SKOS_PREF, ox.Literal(label, language="en"))
        return ox.NamedNode(iri)

    stamp = ox.Literal(now.replace(microsecond=0).isoformat().replace("+00:00", "Z"), datatype=XSD_DATETIME)
    for proposal in linked:
        entity, best, facts = proposal.entity, proposal.best, proposal.facts
        node, item = ox.NamedNode(entity.iri), ox.NamedNode(best.iri)
        record = ox.NamedNode(f"{entity.iri}/wikidata-link")
        add(node, OWL_SAME_AS, item)
        add(node, _node(KG.wikidataId), ox.Literal(best.qid))
        add(node, _node(KG.externalLink), record)
        add(record, RDF_TYPE, _node(KG.EntityLink))
        add(record, _node(KG.linkTarget), item)
        add(record, _node(KG.linkConfidence), ox.Literal(f"{best.confidence:.3f}", datatype=XSD_DECIMAL))
        add(record, _node(KG.linkMethod), ox.Literal(METHOD))
        if best.matched_name:
            add(record, _node(KG.linkMatchedName), ox.Literal(best.matched_name))
        add(record, PROV_GENERATED_AT, stamp)
        if facts is None:
            continue
        # Labels: other languages as rdfs:label; an English label unlike ours and all aliases as altLabel.
        for language in LABEL_LANGUAGES:
            label = facts.labels.get(language)
            if label and language != "en":
                add(node, RDFS_LABEL, ox.Literal(label, language=language))
            elif label and label != entity.label:
                add(node, SKOS_ALT, ox.Literal(label, language="en"))
            for alias in facts.aliases.get(language, ())[:_MAX_ALIASES_PER_LANGUAGE]:
                if alias != entity.label:
                    add(node, SKOS_ALT, ox.Literal(alias, language=language))
        if entity.type == "WeaponSystem":
            if facts.nato_names and "nato" not in entity.has:
                add(node, _node(KG.natoReportingName), ox.Literal(facts.nato_names[0]))
            for operator in facts.operators:
                add(node, _node(KG.operator), target(operator))
            if facts.origin_countries and "origin" not in entity.has:
                add(node, _node(KG.origin), target(facts.origin_countries[0]))
        if entity.type == "Place":
            if facts.geonames and "geonames" not in entity.has:
                add(node, _node(KG.geonamesId), ox.Literal(facts.geonames))
                add(node, OWL_SAME_AS, ox.NamedNode(f"{GEONAMES}{facts.geonames}/"))
            if facts.coordinates and "geometry" not in entity.has:
                lat, lon = facts.coordinates
                geometry = ox.NamedNode(f"{entity.iri}/geometry")
                add(node, GEO_HAS_GEOMETRY, geometry)
                add(geometry, RDF_TYPE, GEO_GEOMETRY)
                add(geometry, GEO_AS_WKT, ox.Literal(wkt_point(lon, lat), datatype=GEO_WKT))
    return quads
