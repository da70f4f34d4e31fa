"""Drawing the places where events happened on an offline map: one self-contained HTML page.

``read_places`` reads, with a few broad SELECTs (as ``kg.viz`` does), every place that events name
(``kg:place``), its coordinates (``geo:hasGeometry/geo:asWKT``, a CRS84 ``POINT(lon lat)``) and its
events with their evidence. ``render_html`` draws one circle per located place (area by number of
events, colour by the most frequent event type) over country outlines, and lists the places it could
not locate below the map instead of dropping them.

Nothing is fetched at run time: Leaflet is vendored in ``kg/resources/map/vendor`` and inlined, and
there is no tile server; the background is a GeoJSON layer of country outlines taken from the
``countryinfo`` package (Natural Earth 1:110m shapes), rounded to 0.01° when first needed in a
process (about 170 KB of JSON). Every string from an article reaches the page as JSON in a
non-executed script element and is shown with ``textContent``; a Content-Security-Policy with one
hash per inline script and style backs that up.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pyoxigraph as ox

from kg.errors import UsageError
from kg.rdf import ENTITY_GRAPH
from kg.store import GraphStore
from kg.viz import _local, _rows, _script_json, _sha256, _values_blocks

#: Event types in the ontology's order (ARCHITECTURE.md), which breaks ties between types.
EVENT_TYPES = ("Attack", "Interception", "Deployment", "Casualties", "TerritorialChange", "MilitaryAid",
               "Launch", "Exercise")
#: One clearly distinct colour per event type: on a map, hue is all that tells markers apart.
TYPE_COLOURS = {"Attack": "#d62728", "Interception": "#1f77b4", "Deployment": "#9467bd",
                "Casualties": "#3b3b3b", "TerritorialChange": "#ff7f0e", "MilitaryAid": "#2ca02c",
                "Launch": "#8c564b", "Exercise": "#17becf"}
OTHER_COLOUR = "#7f7f7f"
#: Events listed in one place's popup, and evidence sentences per event: enough to read a place, and
#: a bound on the page's size when a city has thousands of events (``events`` keeps the total).
MAX_EVENTS_PER_PLACE = 25
MAX_EVIDENCE_PER_EVENT = 3
#: Events listed in all popups together (about 0.4 KB each with their evidence): past it, every place
#: still gets its newest events, a round at a time, so a big store's page stays within a few MB.
MAX_LISTED_EVENTS = 5000
#: Outline coordinates are rounded to this many decimals (0.01° is about 1 km, far below what the
#: 1:110m shapes resolve); it shrinks the outlines from 280 KB to 170 KB of JSON.
OUTLINE_DECIMALS = 2
#: Classes of places that are whole countries: without a point of their own in the store, they are
#: drawn at the country's centre from the same package that draws the outlines, marked approximate.
_COUNTRY_CLASSES = {"State", "Country"}
_ENTITY_CLASSES = {"Entity", "Actor", "WeaponSystem", "Place"}
_WKT_POINT = re.compile(r"^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$", re.I)
_HERE = ("resources", "map")


@dataclass(frozen=True, slots=True)
class MapEvent:
    """One event as its popup line shows it."""

    iri: str
    type: str
    quantity: int | None        # the number the article gives (55 drones), not a count of reports
    time: str                   # the article's words and the date they resolve to, e.g. "overnight (2024-05-06)"
    article: str                # headline, or the article's identifier when it has none
    published: str              # publication date, "" when unknown
    evidence: tuple[str, ...]   # up to MAX_EVIDENCE_PER_EVENT sentences, in article order


@dataclass(frozen=True, slots=True)
class MapPlace:
    """A place that events name, with where to draw it (``lon``/``lat`` None when unknown)."""

    iri: str
    label: str
    subtype: str | None
    lon: float | None
    lat: float | None
    approximate: bool             # drawn at its country's centre, not at a point of its own
    events: int                   # every event at the place
    event_ids: tuple[str, ...]    # their IRIs (an event at two places is at both)
    types: tuple[tuple[str, int], ...]   # (event type, events), most frequent first
    listed: tuple[MapEvent, ...]  # the newest of them, within MAX_EVENTS_PER_PLACE (see _choose_listed)

    @property
    def is_located(self) -> bool:
        return self.lon is not None and self.lat is not None

    @property
    def main_type(self) -> str:
        return self.types[0][0] if self.types else "Event"


@dataclass(frozen=True, slots=True)
class MapReport:
    """What the map shows, so the CLI can say it."""

    located: int
    unlocated: int
    approximate: int
    events: int
    bytes: int


# -- reading the store ---------------------------------------------------------------------------

# The article graph's name is the article's IRI (kg.rdf.to_quads), so its headline is in it too.
_PLACE_EVENTS = """
SELECT ?place ?event ?type ?count ?timeText ?stamp ?begin ?end ?article ?headline ?identifier ?published
WHERE {
  GRAPH ?article {
    ?event a kg:Event , ?type ; kg:place ?place . FILTER(?type != kg:Event)
    OPTIONAL { ?event kg:count ?count }
    OPTIONAL { ?event kg:timeText ?timeText }
    OPTIONAL { ?event sem:hasTimeStamp ?stamp }
    OPTIONAL { ?event sem:hasBeginTimeStamp ?begin }
    OPTIONAL { ?event sem:hasEndTimeStamp ?end }
    OPTIONAL { ?article schema:headline ?headline }
    OPTIONAL { ?article schema:identifier ?identifier }
    OPTIONAL { ?article schema:datePublished ?published }
  }
}"""

_PLACES = """
SELECT ?place ?label ?alias ?class ?wkt WHERE {{
  VALUES ?place {{ {values} }}
  OPTIONAL {{ GRAPH <{entity_graph}> {{ ?place skos:prefLabel ?label }} }}
  OPTIONAL {{ GRAPH <{entity_graph}> {{ ?place skos:altLabel ?alias }} }}
  OPTIONAL {{ GRAPH <{entity_graph}> {{ ?place a ?class }} }}
  OPTIONAL {{ GRAPH <{entity_graph}> {{ ?place geo:hasGeometry/geo:asWKT ?wkt }} }}
}}"""

_EVIDENCE = """
SELECT ?event ?text ?start WHERE {{
  VALUES ?event {{ {values} }}
  ?event kg:evidence ?sentence . ?sentence kg:text ?text ; kg:start ?start .
}}"""

#: Events one of whose participants has the label (or alias) ?focus, in any case.
_FOCUS = f"""
SELECT DISTINCT ?event ?focus WHERE {{
  GRAPH <{ENTITY_GRAPH}> {{ ?entity skos:prefLabel|skos:altLabel ?name }}
  FILTER(LCASE(STR(?name)) = LCASE(STR(?focus)))
  ?event ?role ?entity . VALUES ?role {{ kg:agent kg:target kg:weapon kg:place }}
}}"""


def parse_wkt_point(text: str | None) -> tuple[float, float] | None:
    """(lon, lat) of a WKT ``POINT(lon lat)`` in CRS84 order, or None for anything else or out of range."""
    match = _WKT_POINT.match(text or "")
    if not match:
        return None
    try:
        lon, lat = float(match.group(1)), float(match.group(2))
    except ValueError:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _time_text(words: str | None, stamp: str | None, begin: str | None, end: str | None) -> str:
    when = stamp or (f"{begin}–{end}" if begin and end else begin or end or "")
    if words and when:
        return f"{words} ({when})"
    return words or when


def read_places(store: GraphStore, focus: str | None = None) -> list[MapPlace]:
    """Every place that events name, with coordinates where the store has them, busiest first.

    ``focus`` (a label or alias, any case) keeps the events that entity takes part in (as agent,
    target, weapon or place); it is bound as a parameter, never pasted into the query.
    """
    keep: set[str] | None = None
    if focus is not None:
        keep = {row[0].value for row in store.query(_FOCUS, substitutions={ox.Variable("focus"): ox.Literal(focus)})}
        if not keep:
            raise UsageError(f"no event involves an entity labelled {focus!r}; list the labels with: "
                             "kg query entities")

    event_type: dict[str, str] = {}
    event_info: dict[str, dict] = {}
    places: dict[str, set[str]] = {}
    for (place, event, type_iri, count, words, stamp, begin, end, article, headline, identifier,
         published) in _rows(store, _PLACE_EVENTS):
        if keep is not None and event not in keep:
            continue
        kind = _local(type_iri)
        if event not in event_type or kind < event_type[event]:
            event_type[event] = kind   # an event with two type classes: keep one, the same one every time
        places.setdefault(place, set()).add(event)
        if event not in event_info:
            event_info[event] = {
                "quantity": int(count) if count is not None and count.lstrip("-").isdigit() else None,
                "time": _time_text(words, stamp, begin, end),
                "article": headline or identifier or article or "", "published": published or "",
                "sort": stamp or begin or published or ""}

    described = _describe_places(store, sorted(places))
    newest_first = {place: sorted(events, key=lambda e: (event_info[e]["sort"], event_info[e]["article"], e),
                                  reverse=True) for place, events in places.items()}
    listed_events = _choose_listed(newest_first)
    evidence = _read_evidence(store, sorted({e for listed in listed_events.values() for e in listed}))

    result = []
    for place, events in places.items():
        label, subtype, point, approximate = described.get(place, (_local(place), None, None, False))
        type_counts = Counter(event_type[e] for e in events)
        types = tuple(sorted(type_counts.items(), key=lambda tc: (-tc[1], _type_rank(tc[0]), tc[0])))
        listed = tuple(MapEvent(iri=e, type=event_type[e], quantity=event_info[e]["quantity"],
                                time=event_info[e]["time"], article=event_info[e]["article"],
                                published=event_info[e]["published"], evidence=evidence.get(e, ()))
                       for e in listed_events[place])
        result.append(MapPlace(iri=place, label=label, subtype=subtype, lon=point[0] if point else None,
                               lat=point[1] if point else None, approximate=approximate, events=len(events),
                               event_ids=tuple(sorted(events)),
                               types=types, listed=listed))
    return sorted(result, key=lambda p: (-p.events, p.label.casefold(), p.iri))


def _choose_listed(newest_first: dict[str, list[str]]) -> dict[str, list[str]]:
    """Which events each place's popup lists: its newest, up to MAX_EVENTS_PER_PLACE, taken one round
    at a time over all places (busiest first) until MAX_LISTED_EVENTS, so no hub starves the rest."""
    order = sorted(newest_first, key=lambda p: (-len(newest_first[p]), p))
    listed: dict[str, list[str]] = {place: [] for place in order}
    budget = MAX_LISTED_EVENTS
    for rank in range(MAX_EVENTS_PER_PLACE):
        for place in order:
            if budget <= 0:
                return listed
            if rank < len(newest_first[place]):
                listed[place].append(newest_first[place][rank])
                budget -= 1
    return listed


def _type_rank(kind: str) -> int:
    return EVENT_TYPES.index(kind) if kind in EVENT_TYPES else len(EVENT_TYPES)


def _describe_places(store: GraphStore, iris: list[str]) -> dict[str, tuple[str, str | None, tuple | None, bool]]:
    """IRI -> (label, subtype, (lon, lat) or None, approximate) for the given places."""
    labels: dict[str, str] = {}
    names: dict[str, set[str]] = {}
    classes: dict[str, set[str]] = {}
    points: dict[str, tuple[float, float]] = {}
    for values in _values_blocks(iris):
        sparql = _PLACES.format(values=values, entity_graph=ENTITY_GRAPH)
        for place, label, alias, class_iri, wkt in _rows(store, sparql):
            if label and (place not in labels or label < labels[place]):
                labels[place] = label
            for name in (label, alias):
                if name:
                    names.setdefault(place, set()).add(name)
            if class_iri:
                classes.setdefault(place, set()).add(_local(class_iri))
            point = parse_wkt_point(wkt)
            if point and (place not in points or point < points[place]):
                points[place] = point
    described = {}
    for place in iris:
        label = labels.get(place) or _local(place)
        subtype = min(classes.get(place, set()) - _ENTITY_CLASSES, default=None)
        point, approximate = points.get(place), False
        if point is None and subtype in _COUNTRY_CLASSES:
            point = _country_centre(sorted(names.get(place, {label}), key=lambda n: (n != label, n)))
            approximate = point is not None
        described[place] = (label, subtype, point, approximate)
    return described


def _read_evidence(store: GraphStore, events: list[str]) -> dict[str, tuple[str, ...]]:
    """Event IRI -> its first MAX_EVIDENCE_PER_EVENT evidence sentences, in article order."""
    found: dict[str, set[tuple[int, str]]] = {}
    for values in _values_blocks(events):
        for event, text, start in _rows(store, _EVIDENCE.format(values=values)):
            found.setdefault(event, set()).add((int(start), text or ""))
    return {event: tuple(text for _, text in sorted(pairs)[:MAX_EVIDENCE_PER_EVENT])
            for event, pairs in found.items()}


# -- country outlines ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Countries:
    outlines_json: str                          # a GeoJSON FeatureCollection, compact, rounded
    centre_of: dict[str, tuple[float, float]]   # case-folded name, alternative spelling or ISO -> (lon, lat)


@lru_cache(maxsize=1)
def _countries() -> _Countries:
    """Country outlines and centres from the ``countryinfo`` package, simplified once per process.

    countryinfo (MIT) ships one JSON file per country; the 175 that have a shape carry Natural Earth's
    1:110m outline (public domain). Small island states have none at that scale and are not drawn.
    Rounding to OUTLINE_DECIMALS and dropping the points that rounding makes repeat is all the
    simplification needed: the whole world is then about 170 KB, read in about 0.2 s.
    """
    from countryinfo import CountryInfo

    features = []
    centre_of: dict[str, tuple[float, float]] = {}
    for _, info in sorted(CountryInfo.all().items()):
        name = info.get("name") or ""
        latlng = info.get("latlng") or []
        if len(latlng) == 2:
            centre = (float(latlng[1]), float(latlng[0]))
            iso = info.get("ISO") or {}
            for key in (name, *(info.get("altSpellings") or ()), iso.get("alpha2"), iso.get("alpha3")):
                if key:
                    centre_of.setdefault(str(key).casefold(), centre)
        for feature in (info.get("geoJSON") or {}).get("features", ()):
            polygons = _rounded_polygons(feature.get("geometry") or {})
            if polygons:
                features.append({"type": "Feature", "properties": {"name": name},
                                 "geometry": {"type": "MultiPolygon", "coordinates": polygons}})
    outlines = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"),
                          ensure_ascii=False)
    return _Countries(outlines_json=outlines, centre_of=centre_of)


def _rounded_polygons(geometry: dict) -> list:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    out = []
    for polygon in polygons:
        rings = []
        for ring in polygon:
            rounded: list[list[float]] = []
            for lon, lat, *_ in ring:
                point = [round(lon, OUTLINE_DECIMALS), round(lat, OUTLINE_DECIMALS)]
                if not rounded or rounded[-1] != point:
                    rounded.append(point)
            if len(rounded) >= 4:   # a closed ring needs three distinct corners
                rings.append(rounded)
        if rings:
            out.append(rings)
    return out


def _country_centre(names: list[str]) -> tuple[float, float] | None:
    centres = _countries().centre_of
    return next((centres[n.casefold()] for n in names if n.casefold() in centres), None)


# -- rendering -----------------------------------------------------------------------------------

def _radius(events: int) -> float:
    """Circle radius in pixels: area grows with the number of events, capped so a hub leaves room."""
    return round(min(5 + 3.2 * math.sqrt(events), 30), 1)


def _colour(kind: str) -> str:
    return TYPE_COLOURS.get(kind, OTHER_COLOUR)


def _page_data(places: list[MapPlace]) -> dict:
    def event(e: MapEvent) -> dict:
        return {"type": e.type, "colour": _colour(e.type), "quantity": e.quantity, "time": e.time,
                "article": e.article, "published": e.published, "evidence": list(e.evidence)}

    return {"places": [
        {"label": p.label, "subtype": p.subtype, "lon": p.lon, "lat": p.lat, "approximate": p.approximate,
         "events": p.events, "colour": _colour(p.main_type), "radius": _radius(p.events),
         "types": [[kind, n] for kind, n in p.types], "listed": [event(e) for e in p.listed], "iri": p.iri}
        for p in places]}


def _legend(places: list[MapPlace]) -> list[dict]:
    """Event types present, in the ontology's order, with colour and number of events."""
    totals: Counter[str] = Counter()
    for place in places:
        for kind, n in place.types:
            totals[kind] += n
    return [{"name": kind, "colour": _colour(kind), "count": totals[kind]}
            for kind in sorted(totals, key=lambda k: (_type_rank(k), k))]


def _inline_css(text: str) -> str:
    """Leaflet's CSS with its image rules (layer-control and marker icons, unused) pointing nowhere."""
    return re.sub(r"url\((?!\s*['\"]?(?:data:|#))[^)]*\)", "none", text)


def render_html(places: list[MapPlace], path: Path, title: str) -> MapReport:
    """Write the map as one self-contained, offline HTML page; returns what it shows.

    The page is our template (kg/resources/map/map.html) with Leaflet, our script and styles, the
    country outlines and the places inlined. Only these scripts and styles may run or apply: the CSP
    lists a hash for each, so an injected ``<script>`` or ``onerror=`` attribute would do nothing.
    """
    import jinja2
    from markupsafe import Markup

    here = resources.files("kg").joinpath(*_HERE)
    leaflet_js = (here / "vendor" / "leaflet.js").read_text(encoding="utf-8")
    leaflet_css = _inline_css((here / "vendor" / "leaflet.css").read_text(encoding="utf-8"))
    app_js = (here / "map.js").read_text(encoding="utf-8")
    app_css = (here / "map.css").read_text(encoding="utf-8")
    for name, text, closing in (("leaflet.js", leaflet_js, "</script"), ("map.js", app_js, "</script"),
                                ("leaflet.css", leaflet_css, "</style"), ("map.css", app_css, "</style")):
        if closing in text.lower():   # would end the inline element early
            raise ValueError(f"{name} contains {closing}> and cannot be inlined")
    data_json = _script_json(_page_data(places))
    outlines_json = _script_json(json.loads(_countries().outlines_json))

    csp = (f"default-src 'none'; script-src {_sha256(leaflet_js)} {_sha256(app_js)}; "
           f"style-src {_sha256(leaflet_css)} {_sha256(app_css)}; img-src data:; font-src 'none'; "
           "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; "
           "form-action 'none'")
    located = [p for p in places if p.is_located]
    unlocated = [p for p in places if not p.is_located]
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string((here / "map.html").read_text(encoding="utf-8"))
    page = template.render(
        title=title, csp=csp, legend=_legend(places), located=len(located),
        events=len({e for p in places for e in p.event_ids}), unlocated=[(places.index(p), p) for p in unlocated],
        has_approximate=any(p.approximate for p in located),
        leaflet_css=Markup(leaflet_css), app_css=Markup(app_css), leaflet_js=Markup(leaflet_js),
        app_js=Markup(app_js), data_json=Markup(data_json), outlines_json=Markup(outlines_json))
    data = page.encode("utf-8")
    Path(path).write_bytes(data)
    return MapReport(located=len(located), unlocated=len(unlocated),
                     approximate=sum(p.approximate for p in located),
                     events=len({e for p in places for e in p.event_ids}),
                     bytes=len(data))
