"""Projecting the RDF graph into a readable networkx graph, and rendering it as one offline HTML page.

The store keeps evidence (mentions, sentences) as nodes of their own, which is right for queries and
unreadable in a picture. ``project`` keeps what an analyst reads: entities, events and statements as
nodes, their roles as labelled edges, and the sentences that support each node as its ``evidence``.
Everything is read with a handful of SELECTs over the whole store (one per shape, never one per
node), then narrowed in Python, because Oxigraph answers one broad query much faster than thousands
of small ones.

``render_html`` writes one self-contained file through pyvis and the vis-network copy bundled with
pyvis: analysts open these files offline, so nothing may come from a CDN. Every string in the page
comes from articles and is untrusted; it reaches the browser only as escaped HTML or as JSON read
with ``JSON.parse`` and shown with ``textContent``, and a Content-Security-Policy with script hashes
backs that up: a script that slipped through the escaping would still not run.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import networkx as nx

from kg.errors import UsageError
from kg.rdf import ENTITY_GRAPH, SUBTYPE_CLASS
from kg.store import GraphStore

ENTITY_KINDS = ("Actor", "WeaponSystem", "Place")
KINDS = (*ENTITY_KINDS, "Event", "Statement")
#: RDF property (local name) -> role shown on the edge.
ROLES = {"agent": "agent", "target": "target", "weapon": "weapon", "place": "place",
         "speaker": "speaker", "about": "about", "citesSource": "cites"}
#: Which participant of a left-out event or statement an aggregated edge starts from.
_ROLE_ORDER = ("agent", "speaker", "weapon", "target", "about", "cites", "place")
#: Evidence sentences kept per node: enough to judge a node, small enough that a big store's hubs
#: (thousands of mentions) don't put megabytes of text into the page. ``count`` keeps the total.
MAX_EVIDENCE = 5
#: IRIs per VALUES block when fetching evidence.
_VALUES_CHUNK = 400
#: Edge budget of a reduced graph, per node of the node budget.
_EDGES_PER_NODE = 3
_CLASS_SUBTYPE = {cls: subtype for (_, subtype), cls in SUBTYPE_CLASS.items()}


@dataclass(frozen=True, slots=True)
class VizReport:
    """What a projection shows and what it left out, so the CLI says so instead of hiding it."""

    nodes: int
    edges: int
    dropped_nodes: int = 0   # left out to stay within the node budget
    dropped_edges: int = 0   # edges of the candidate graph not drawn (some are folded into weighted ones)
    note: str = ""


# -- reading the store ---------------------------------------------------------------------------

_ENTITIES = f"""
SELECT ?entity ?type ?label ?class WHERE {{
  GRAPH <{ENTITY_GRAPH}> {{
    ?entity a ?type . VALUES ?type {{ kg:Actor kg:WeaponSystem kg:Place }}
    OPTIONAL {{ ?entity skos:prefLabel ?label }}
    OPTIONAL {{ ?entity a ?class . FILTER(?class NOT IN (kg:Entity, kg:Actor, kg:WeaponSystem, kg:Place)) }}
  }}
}}"""

_ALIASES = f"SELECT ?entity ?alias WHERE {{ GRAPH <{ENTITY_GRAPH}> {{ ?entity skos:altLabel ?alias }} }}"

_MENTION_COUNTS = """
SELECT ?entity (COUNT(?mention) AS ?mentions) (COUNT(DISTINCT ?article) AS ?articles) WHERE {
  GRAPH ?article { ?mention kg:refersTo ?entity }
} GROUP BY ?entity"""

_MENTION_TEXTS = "SELECT DISTINCT ?entity ?text WHERE { ?mention kg:refersTo ?entity ; kg:text ?text }"

# Evidence sentences are counted here and fetched later, for the shown nodes only.
_EVENTS = """
SELECT ?event ?type ?trigger ?count (COUNT(?sentence) AS ?sentences) WHERE {
  GRAPH ?article {
    ?event a kg:Event , ?type . FILTER(?type != kg:Event)
    OPTIONAL { ?event kg:trigger ?trigger }
    OPTIONAL { ?event kg:count ?count }
    OPTIONAL { ?event kg:evidence ?sentence }
  }
} GROUP BY ?event ?type ?trigger ?count"""

_STATEMENTS = """
SELECT ?statement ?stance ?verb ?content ?hedged ?speakerText (COUNT(?sentence) AS ?sentences)
WHERE {
  GRAPH ?article {
    ?statement a kg:Statement .
    OPTIONAL { ?statement kg:stance ?stance }
    OPTIONAL { ?statement kg:reportingVerb ?verb }
    OPTIONAL { ?statement kg:content ?content }
    OPTIONAL { ?statement kg:hedged ?hedged }
    OPTIONAL { ?statement kg:speakerText ?speakerText }
    OPTIONAL { ?statement kg:evidence ?sentence }
  }
} GROUP BY ?statement ?stance ?verb ?content ?hedged ?speakerText"""

_ROLE_TRIPLES = """
SELECT ?node ?role ?value WHERE {
  GRAPH ?article { ?node ?role ?value .
    VALUES ?role { kg:agent kg:target kg:weapon kg:place kg:speaker kg:about kg:citesSource } }
}"""

#: Which sentences support the given nodes: where an entity is mentioned, or an event or statement
#: is stated. No text yet: a hub can have thousands, of which MAX_EVIDENCE are shown.
_SUPPORT = """
SELECT ?node ?sentence ?article ?start WHERE {{
  VALUES ?node {{ {values} }}
  {{ ?mention kg:refersTo ?node ; kg:sentence ?sentence }} UNION {{ ?node kg:evidence ?sentence }}
  ?sentence kg:inArticle ?article ; kg:start ?start .
}}"""

_SENTENCES = """
SELECT ?sentence ?text ?headline ?identifier ?article WHERE {{
  VALUES ?sentence {{ {values} }}
  ?sentence kg:text ?text .
  OPTIONAL {{ ?sentence kg:inArticle ?article .
             OPTIONAL {{ ?article schema:headline ?headline }}
             OPTIONAL {{ ?article schema:identifier ?identifier }} }}
}}"""


def _local(iri: str) -> str:
    """The part of an IRI after '#' (or the last '/'): class and property names of our ontology."""
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def _value(term) -> str | None:
    return None if term is None else term.value


def _rows(store: GraphStore, sparql: str) -> Iterator[tuple[str | None, ...]]:
    for row in store.query(sparql):
        yield tuple(_value(term) for term in row)


@dataclass(frozen=True, slots=True)
class _Names:
    """Lower-cased names -> {tier: IRIs}; tier 0 prefLabel, 1 altLabel, 2 mention text."""

    index: dict[str, dict[int, set[str]]]
    display: dict[str, str]    # lower-cased name -> a spelling to show in suggestions


def _read_graph(store: GraphStore) -> tuple[nx.MultiDiGraph, _Names]:
    """The whole store as entity/event/statement nodes with role edges (no evidence text yet)."""
    entity_type: dict[str, str] = {}
    entity_label: dict[str, str] = {}
    entity_class: dict[str, str] = {}
    for entity, type_iri, label, class_iri in _rows(store, _ENTITIES):
        kind = _local(type_iri)
        if entity not in entity_type or ENTITY_KINDS.index(kind) < ENTITY_KINDS.index(entity_type[entity]):
            entity_type[entity] = kind
        if label and (entity not in entity_label or label < entity_label[entity]):
            entity_label[entity] = label
        if class_iri and (entity not in entity_class or class_iri < entity_class[entity]):
            entity_class[entity] = class_iri

    names: dict[str, dict[int, set[str]]] = {}
    display: dict[str, str] = {}

    def name(text: str, tier: int, iri: str) -> None:
        key = text.strip().casefold()
        if key:
            names.setdefault(key, {}).setdefault(tier, set()).add(iri)
            if tier == 0 or key not in display:
                display[key] = text.strip()

    nodes: dict[str, dict] = {}

    def entity_node(iri: str) -> dict:
        if iri not in nodes:
            kind = entity_type.get(iri, "Actor")
            class_name = _local(entity_class[iri]) if iri in entity_class else None
            nodes[iri] = {"label": entity_label.get(iri) or _local(iri), "kind": kind,
                          "subtype": _CLASS_SUBTYPE.get(class_name, class_name), "count": 0, "articles": 0}
        return nodes[iri]

    for entity, mentions, articles in _rows(store, _MENTION_COUNTS):
        entity_node(entity).update(count=int(mentions), articles=int(articles))
    for entity, text in _rows(store, _MENTION_TEXTS):
        name(text, 2, entity)

    for event, type_iri, trigger, count, sentences in _rows(store, _EVENTS):
        event_type = _local(type_iri)
        if event in nodes and nodes[event]["subtype"] <= event_type:
            continue   # an event with two type classes: keep one, the same one every time
        nodes[event] = {"label": _event_label(event_type, trigger, count), "kind": "Event",
                        "subtype": event_type, "count": int(sentences), "articles": 1,
                        "trigger": trigger or "", "quantity": int(count) if count is not None else None}

    for statement, stance, verb, content, hedged, speaker_text, sentences in _rows(store, _STATEMENTS):
        stance_name = _local(stance) if stance else None
        nodes[statement] = {"label": _statement_label(stance_name, verb, content, hedged == "true"),
                            "kind": "Statement", "subtype": stance_name, "count": int(sentences),
                            "articles": 1, "verb": verb or "", "content": content or "",
                            "hedged": hedged == "true", "speaker_text": speaker_text or ""}

    edges: set[tuple[str, str, str]] = set()
    for node, role_iri, value in _rows(store, _ROLE_TRIPLES):
        if node not in nodes:
            continue
        if value not in nodes:
            if value not in entity_type:
                continue   # points at something that is neither an entity nor a known event
            entity_node(value)
        edges.add((node, value, ROLES[_local(role_iri)]))

    graph = nx.MultiDiGraph()
    for iri in sorted(nodes, key=lambda n: (KINDS.index(nodes[n]["kind"]), n)):
        graph.add_node(iri, **nodes[iri])
    for source, target, role in sorted(edges):
        graph.add_edge(source, target, key=role, role=role, label=role, weight=1)

    for iri in graph:
        if graph.nodes[iri]["kind"] in ENTITY_KINDS:
            name(graph.nodes[iri]["label"], 0, iri)
    for entity, alias in _rows(store, _ALIASES):
        if entity in graph:
            name(alias, 1, entity)
    return graph, _Names(names, display)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _event_label(event_type: str, trigger: str | None, count: str | None) -> str:
    """"Interception: intercepted (55)": the type, the word the article used, and the number."""
    label = f"{event_type}: {trigger}" if trigger else event_type
    return f"{label} ({count})" if count is not None else label


def _statement_label(stance: str | None, verb: str | None, content: str | None, hedged: bool) -> str:
    """"accuse: that Ukraine shelled ...": the stance and the start of what was said."""
    said = _shorten(content, 40) if content else (verb or "")
    label = f"{stance or 'statement'}: {said}" if said else (stance or "statement")
    return f"{label} (hedged)" if hedged else label


# -- choosing what to show -----------------------------------------------------------------------

def _resolve_focus(graph: nx.MultiDiGraph, names: _Names, focus: str) -> list[str]:
    """The entities a focus label names: exact prefLabel first, then altLabel, then mention text."""
    if focus in graph:
        return [focus]   # an IRI
    key = focus.strip().casefold()
    tiers = names.index.get(key)
    if tiers:
        return sorted(tiers[min(tiers)])
    close = difflib.get_close_matches(key, list(names.index), n=5, cutoff=0.6)
    containing = sorted((k for k in names.index if key and key in k and k not in close), key=len)
    containing = containing[:5 - len(close)]
    suggestions = [names.display[k] for k in [*close, *containing]]
    if suggestions:
        hint = "did you mean " + ", ".join(repr(s) for s in suggestions) + "?"
    elif graph.number_of_nodes():
        hint = "list the labels with: kg query entities"
    else:
        hint = "the store has no entities yet; build it first with: kg build PATH..."
    raise UsageError(f"no entity is labelled {focus!r}; {hint}")


def _resolve_seeds(graph: nx.MultiDiGraph, names: _Names, seeds: Iterable[str]) -> tuple[list[str], int]:
    """Seeds that are nodes (IRIs) or exact entity labels; returns them and how many were neither."""
    found: dict[str, None] = {}
    ignored = 0
    for seed in seeds:
        if seed in graph:
            found[seed] = None
            continue
        tiers = names.index.get(seed.strip().casefold(), {})
        best = [iri for tier in (0, 1) for iri in sorted(tiers.get(tier, ()))]
        if best:
            found.update(dict.fromkeys(best))
        else:
            ignored += 1   # article, sentence or class IRIs, numbers: nothing to centre on
    return list(found), ignored


def _distances(graph: nx.MultiDiGraph, centres: list[str], hops: int) -> dict[str, int]:
    """Hops from the nearest centre, ignoring edge direction (an event is one hop from its agent)."""
    distance = dict.fromkeys(centres, 0)
    frontier = list(distance)
    for step in range(1, hops + 1):
        reached = []
        for node in frontier:
            for neighbour in (*graph.succ[node], *graph.pred[node]):
                if neighbour not in distance:
                    distance[neighbour] = step
                    reached.append(neighbour)
        frontier = reached
    return distance


def _neighbours(graph: nx.MultiDiGraph, node: str) -> set[str]:
    return set(graph.succ[node]) | set(graph.pred[node])


def _reduce(graph: nx.MultiDiGraph, distance: dict[str, int], budget: int) -> tuple[nx.MultiDiGraph, str]:
    """At most ``budget`` nodes: the centres, the most connected entities, the events linking them.

    Entities get a third of the budget (hubs first, nearer the focus first); events, then statements,
    fill the rest, those linking most kept nodes first, so the picture shows who did what to whom
    rather than a cloud of unconnected hubs. An event or statement left out still counts: it becomes
    an aggregated edge between its kept participants, and parallel ones add up in ``weight``.
    """
    degree = {n: len(_neighbours(graph, n)) for n in graph}

    def rank(n: str) -> tuple:
        # Ties go to the more reported, then to the IRI: never to the label, which would favour
        # "Attack" events over "Interception" ones.
        return (distance.get(n, 0), -degree[n], -graph.nodes[n].get("count", 0), n)

    centres = sorted((n for n, d in distance.items() if d == 0), key=rank)
    keep: dict[str, None] = dict.fromkeys(centres[:budget])
    quota = max(budget // 3, 1)
    kept_entities = sum(graph.nodes[n]["kind"] in ENTITY_KINDS for n in keep)
    entities = [n for n in graph if graph.nodes[n]["kind"] in ENTITY_KINDS and n not in keep]
    for node in sorted(entities, key=rank):
        if len(keep) >= budget or kept_entities >= quota:
            break
        keep[node] = None
        kept_entities += 1
    for kind in ("Event", "Statement"):
        links = {n: len(_neighbours(graph, n) & keep.keys()) for n in graph
                 if graph.nodes[n]["kind"] == kind and n not in keep}
        for node in sorted((n for n in links if links[n]), key=lambda n: (-links[n], *rank(n))):
            if len(keep) >= budget:
                break
            keep[node] = None
    for node in sorted((n for n in graph if n not in keep), key=rank):
        if len(keep) >= budget:
            break
        keep[node] = None

    reduced = graph.subgraph(keep).copy()
    folded: Counter[tuple[str, str, str, str]] = Counter()
    folded_nodes = 0
    for node in graph:
        data = graph.nodes[node]
        if node in keep or data["kind"] not in ("Event", "Statement"):
            continue
        roles = {(role, target) for _, target, role in graph.out_edges(node, keys=True) if target in keep}
        kept = sorted(roles, key=lambda rt: (_ROLE_ORDER.index(rt[0]), rt[1]))
        if len({target for _, target in kept}) < 2:
            continue
        folded_nodes += 1
        source = kept[0][1]
        for role, target in kept[1:]:
            if target != source:
                folded[(source, target, data["subtype"] or data["kind"], role)] += 1
    # Folded edges can outnumber the rest many times over (every pair of kept hubs that shares an
    # event); the heaviest are kept up to an edge budget, as vis-network slows with edges too.
    room = max(_EDGES_PER_NODE * budget - reduced.number_of_edges(), 0)
    heaviest = sorted(folded.items(), key=lambda item: (-item[1], item[0]))
    for (source, target, via, role), weight in heaviest[:room]:
        reduced.add_edge(source, target, key=f"{via} {role}", role=role, via=via, label=f"{via} {role}",
                         weight=weight)

    dropped = [n for n in graph if n not in keep]
    by_kind = Counter(graph.nodes[n]["kind"] for n in dropped)
    hubs = sorted((n for n in dropped if graph.nodes[n]["kind"] in ENTITY_KINDS), key=rank)[:5]
    note = (f"over the budget of {budget} nodes: showing {len(keep)} of {len(graph)} "
            f"(the most connected entities{' near the focus' if distance else ''} and the events and "
            f"statements linking them); left out "
            + ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items())))
    if hubs:
        note += "; most connected left out: " + ", ".join(
            f"{graph.nodes[n]['label']} ({degree[n]} links)" for n in hubs)
    if folded:
        note += (f"; {folded_nodes} left-out events/statements drawn as {min(room, len(folded))} "
                 "weighted edges")
    if len(folded) > room:
        note += f" ({len(folded) - room} lighter ones left out)"
    return reduced, note


# -- evidence text -------------------------------------------------------------------------------

def _attach_evidence(store: GraphStore, graph: nx.MultiDiGraph) -> None:
    """Give each node ``evidence``: up to MAX_EVIDENCE (sentence text, headline or article id) pairs.

    Only the shown nodes' sentences are looked up (VALUES blocks), and text is fetched only for the
    sentences chosen, so a big store's text never passes through Python unless it ends up in the
    page. The choice takes one sentence per article in turn (earliest first), so a hub's tooltip
    shows several reports rather than one article's paragraphs.
    """
    support: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for values in _values_blocks(list(graph)):
        for node, sentence, article, start in _rows(store, _SUPPORT.format(values=values)):
            support.setdefault(node, {}).setdefault(article, []).append((int(start), sentence))
    chosen: dict[str, list[str]] = {}
    for node, by_article in support.items():
        queues = [sorted(set(found)) for _, found in sorted(by_article.items())]
        picked: list[str] = []
        for rank in range(max(map(len, queues))):
            picked.extend(queue[rank][1] for queue in queues if rank < len(queue))
            if len(picked) >= MAX_EVIDENCE:
                break
        chosen[node] = picked[:MAX_EVIDENCE]
    texts: dict[str, tuple[str, str]] = {}
    for values in _values_blocks(sorted({s for picked in chosen.values() for s in picked})):
        for sentence, text, headline, identifier, article in _rows(store, _SENTENCES.format(values=values)):
            texts.setdefault(sentence, (text or "", headline or identifier or article or ""))
    for node, data in graph.nodes(data=True):
        data["evidence"] = [texts[s] for s in chosen.get(node, ()) if s in texts]


def _values_blocks(iris: list[str]) -> Iterator[str]:
    """IRIs as the bodies of VALUES blocks of _VALUES_CHUNK each.

    They come from the store (or were checked to be nodes of the projection, which come from the
    store), so they are valid IRIs and cannot break out of <...>.
    """
    for start in range(0, len(iris), _VALUES_CHUNK):
        yield " ".join(f"<{iri}>" for iri in iris[start:start + _VALUES_CHUNK])


# -- the projection ------------------------------------------------------------------------------

def project(store: GraphStore, focus: str | None = None, hops: int = 2, seeds: list[str] | None = None,
            node_budget: int = 1500) -> tuple[nx.MultiDiGraph, VizReport]:
    """A readable networkx graph of the store: entities, events and statements with their roles.

    Nodes carry ``label``, ``kind`` (Actor, WeaponSystem, Place, Event, Statement), ``subtype`` (the
    entity subtype, event type or stance), ``evidence`` (up to MAX_EVIDENCE (sentence, article)
    pairs), ``count`` (mentions of an entity, evidence sentences of an event or statement) and
    ``articles``. Edges are keyed by role (agent, target, weapon, place, speaker, about, cites) and
    carry ``label`` and ``weight``.

    ``focus`` (a label, alias or mention text, any case; or an IRI) and ``seeds`` (IRIs or exact
    labels, e.g. a query's results) restrict the graph to nodes within ``hops`` of them. Above
    ``node_budget`` nodes the graph is reduced (see ``_reduce``) because vis-network's physics stalls
    past about 1,500 nodes; the report and ``graph.graph["note"]`` say what was left out.
    """
    if hops < 0:
        raise UsageError(f"--hops must be 0 or more, not {hops}")
    if node_budget < 1:
        raise UsageError(f"--max-nodes must be at least 1, not {node_budget}")
    full, names = _read_graph(store)
    centres: list[str] = []
    notes: list[str] = []
    if focus is not None:
        centres.extend(_resolve_focus(full, names, focus))
    if seeds is not None:
        found, ignored = _resolve_seeds(full, names, seeds)
        if not found:
            what = (f"none of the {len(seeds)} value(s) in the query's results is" if seeds
                    else "the query's results hold no IRI of")
            raise UsageError(f"{what} an entity, event or statement of the store; use a query that "
                             "returns their IRIs or labels (e.g. entities, events, statements), "
                             "or --focus LABEL")
        centres.extend(n for n in found if n not in centres)
        if ignored:
            notes.append(f"{ignored} result value(s) that are not entities, events or statements ignored")

    if centres:
        distance = _distances(full, centres, hops)
        candidate = full.subgraph(distance).copy()
        named = ", ".join(full.nodes[c]["label"] for c in centres[:3]) + (", ..." if len(centres) > 3 else "")
        notes.insert(0, f"within {hops} hop(s) of {named}: {len(candidate)} of {len(full)} nodes")
    else:
        distance = {}
        candidate = full

    graph = candidate
    if len(candidate) > node_budget:
        graph, reduce_note = _reduce(candidate, distance, node_budget)
        notes.append(reduce_note)
    kept_edges = sum(1 for u, v, k in candidate.edges(keys=True) if graph.has_edge(u, v, k))
    _attach_evidence(store, graph)
    note = "; ".join(notes)
    graph.graph["note"] = note
    return graph, VizReport(nodes=graph.number_of_nodes(), edges=graph.number_of_edges(),
                            dropped_nodes=len(candidate) - len(graph),
                            dropped_edges=candidate.number_of_edges() - kept_edges, note=note)


# -- rendering -----------------------------------------------------------------------------------

#: Shape per kind, colour per subtype: hue families per kind so kinds stay apart at a glance.
SHAPES = {"Actor": "dot", "WeaponSystem": "triangle", "Place": "square", "Event": "diamond",
          "Statement": "hexagon"}
COLOURS = {
    "Actor": {None: "#4a78c2", "State": "#1f4e9c", "ArmedForce": "#2f6fd0", "GovernmentBody": "#5b8ff0",
              "InternationalOrganization": "#8ab4f8", "NonStateArmedGroup": "#0b7a8a", "Person": "#3aa0c8",
              "MediaOutlet": "#9ab3cf"},
    "WeaponSystem": {None: "#c0392b", "SurfaceToAirMissileSystem": "#c0392b",
                     "UnmannedAerialVehicle": "#e74c3c", "BallisticMissile": "#8e1b10",
                     "CruiseMissile": "#d35400", "Aircraft": "#e67e22", "Artillery": "#a04000",
                     "RocketArtillery": "#b03a6e", "ArmoredVehicle": "#7b241c", "Ship": "#cd6155",
                     "Other": "#f1948a"},
    "Place": {None: "#27ae60", "Country": "#1e8449", "Region": "#27ae60", "City": "#52be80",
              "Facility": "#117a65", "WaterBody": "#48c9b0", "Other": "#a9dfbf"},
    "Event": {None: "#f1c40f", "Attack": "#e0a800", "Interception": "#f1c40f", "Deployment": "#b9770e",
              "Casualties": "#7d6608", "TerritorialChange": "#f39c12", "MilitaryAid": "#f8c471",
              "Launch": "#ca6f1e", "Exercise": "#d4b483"},
    "Statement": {None: "#8e44ad", "assert": "#8e44ad", "deny": "#5b2c6f", "accuse": "#b03a9e",
                  "call": "#af7ac5", "concern": "#7d6bb0"},
}
ROLE_COLOURS = {"agent": "#34495e", "target": "#c0392b", "weapon": "#d35400", "place": "#1e8449",
                "speaker": "#8e44ad", "about": "#7f8c8d", "cites": "#95a5a6"}
_KIND_NAMES = {"Actor": "Actor", "WeaponSystem": "Weapon system", "Place": "Place", "Event": "Event",
               "Statement": "Statement"}
#: Edge labels are drawn only below this many edges; above it they hide the graph (role: colour, tooltip).
_EDGE_LABEL_LIMIT = 400
_VIS_LIB = ("templates", "lib", "vis-9.1.2")


def _colour(kind: str, subtype: str | None) -> str:
    palette = COLOURS.get(kind, {None: "#999999"})
    return palette.get(subtype, palette[None])


def _node_size(kind: str, count: int) -> float:
    """Bigger for more-reported things, on a log scale so one hub does not swallow the page."""
    base, step = (14, 4.0) if kind in ENTITY_KINDS else (10, 2.0)
    return round(min(base + step * math.log2(1 + count), 48), 1)


def _legend(graph: nx.MultiDiGraph) -> list[dict]:
    """Kinds present (with shape) and, under each, the subtypes present with colour and count."""
    counts = Counter((data["kind"], data.get("subtype")) for _, data in graph.nodes(data=True))
    groups = []
    for kind in KINDS:
        subtypes = sorted(((sub, n) for (k, sub), n in counts.items() if k == kind), key=lambda s: s[0] or "")
        if subtypes:
            groups.append({"kind": kind, "name": _KIND_NAMES[kind], "shape": SHAPES[kind],
                           "total": sum(n for _, n in subtypes),
                           "items": [{"name": sub or "(unspecified)", "colour": _colour(kind, sub),
                                      "count": n} for sub, n in subtypes]})
    return groups


def _physics(nodes: int, edges: int) -> dict:
    """Options that settle: a bounded stabilization, after which the page turns physics off."""
    iterations = 1000 if nodes <= 300 else (500 if nodes <= 800 else 250)
    return {
        "physics": {"enabled": True, "solver": "barnesHut", "minVelocity": 0.75,
                    "barnesHut": {"gravitationalConstant": -2500, "centralGravity": 0.9,
                                  "springLength": 90, "springConstant": 0.05, "damping": 0.4,
                                  "avoidOverlap": 0.5},
                    "stabilization": {"enabled": True, "iterations": iterations, "updateInterval": 25,
                                      "fit": True}},
        # improvedLayout runs Kamada-Kawai first: good for small graphs, minutes for big ones.
        "layout": {"randomSeed": 7, "improvedLayout": nodes <= 150},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": edges > 1500,
                        "navigationButtons": False, "keyboard": False, "multiselect": False},
        "nodes": {"font": {"size": 14, "face": "sans-serif", "strokeWidth": 3, "strokeColor": "#ffffff"},
                  "borderWidth": 1},
        "edges": {"smooth": {"enabled": True, "type": "continuous", "roundness": 0.4},
                  "font": {"size": 10, "face": "sans-serif", "color": "#555555", "strokeWidth": 3,
                           "strokeColor": "#ffffff", "align": "middle"},
                  "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}},
    }


def _script_json(value) -> str:
    """JSON safe inside a <script> element: no '<' at all, so no '</script>' and no '<!--'."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _to_network(graph: nx.MultiDiGraph):
    """The pyvis Network holding the vis-network nodes, edges and options of the page.

    No ``title`` strings: tooltips are built in the page from the ``kg`` fields with textContent, so
    no text from an article is ever parsed as HTML (vis-network renders some titles as HTML).
    """
    from pyvis.network import Network  # pyvis imports IPython: only rendering pays for it

    network = Network(directed=True, cdn_resources="in_line", height="100%", width="100%")
    for node, data in graph.nodes(data=True):
        kind, subtype = data["kind"], data.get("subtype")
        small = kind in ("Event", "Statement")
        network.add_node(
            node, label=_shorten(data["label"], 28 if small else 40), shape=SHAPES.get(kind, "dot"),
            color=_colour(kind, subtype), size=_node_size(kind, data.get("count", 0)),
            font={"size": 11 if small else 14},
            kg={"label": data["label"], "kind": kind, "subtype": subtype, "count": data.get("count", 0),
                "articles": data.get("articles", 0), "iri": node,
                "evidence": [list(pair) for pair in data.get("evidence", ())],
                "details": _details(data)})
    show_labels = graph.number_of_edges() <= _EDGE_LABEL_LIMIT
    for source, target, data in graph.edges(data=True):
        weight = data.get("weight", 1)
        label = data.get("label") or data.get("role", "")
        shown = (f"{label} ×{weight}" if weight > 1 else label) if show_labels else ""
        network.add_edge(source, target, label=shown,
                         color=ROLE_COLOURS.get(data.get("role"), "#999999"),
                         width=round(1 + 1.5 * math.log2(weight), 1), dashes=data.get("role") == "about",
                         kg={"label": label, "role": data.get("role", ""), "weight": weight})
    network.options = _physics(graph.number_of_nodes(), graph.number_of_edges())
    return network


def _details(data: dict) -> list[list[str]]:
    """Extra (name, value) lines for the tooltip and side panel of events and statements."""
    lines = []
    for key, name in (("trigger", "words"), ("quantity", "number"), ("verb", "reporting verb"),
                      ("speaker_text", "speaker"), ("content", "content")):
        value = data.get(key)
        if value not in (None, ""):
            lines.append([name, str(value)])
    if data.get("kind") == "Statement":
        lines.append(["hedged", "yes" if data.get("hedged") else "no"])
    return lines


def render_html(graph: nx.MultiDiGraph, path: Path, title: str) -> None:
    """Write ``graph`` as one self-contained, offline HTML page: legend, search box, tooltips.

    vis-network and its CSS are inlined from pyvis' own copy, and the page is rendered from our
    template (kg/resources/viz.html) rather than pyvis' one, which links bootstrap and tom-select
    from CDNs and pastes its heading unescaped. Data travel as JSON in a non-executed script element.
    """
    import jinja2
    import pyvis

    network = _to_network(graph)
    nodes, edges, _, _, _, options = network.get_network_data()
    data_json = _script_json({"nodes": nodes, "edges": edges, "options": json.loads(options)})
    lib = Path(pyvis.__file__).parent.joinpath(*_VIS_LIB)
    vis_js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    vis_css = (lib / "vis-network.css").read_text(encoding="utf-8")
    here = resources.files("kg") / "resources"
    app_js = (here / "viz.js").read_text(encoding="utf-8")
    app_css = (here / "viz.css").read_text(encoding="utf-8")
    for name, text, closing in (("vis-network.min.js", vis_js, "</script"), ("viz.js", app_js, "</script"),
                                ("vis-network.css", vis_css, "</style"), ("viz.css", app_css, "</style")):
        if closing in text.lower():   # would end the inline element early
            raise ValueError(f"{name} contains {closing}> and cannot be inlined")

    # Only these two scripts may run; an injected <script> or onerror= attribute has no matching hash.
    csp = ("default-src 'none'; script-src " + _sha256(vis_js) + " " + _sha256(app_js)
           + "; style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none';"
           " media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string((here / "viz.html").read_text(encoding="utf-8"))
    note = graph.graph.get("note", "")
    page = template.render(
        title=title, note=note, csp=csp, legend=_legend(graph), roles=ROLE_COLOURS,
        node_count=graph.number_of_nodes(), edge_count=graph.number_of_edges(),
        vis_css=_markup(vis_css), app_css=_markup(app_css), vis_js=_markup(vis_js), app_js=_markup(app_js),
        data_json=_markup(data_json))
    Path(path).write_text(page, encoding="utf-8")


def _markup(text: str):
    """Mark trusted text (our files, or JSON already made script-safe) as not to be escaped again."""
    from markupsafe import Markup

    return Markup(text)
