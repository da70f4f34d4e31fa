"""Linking: canonical identity, external ids and location of the entities of an extraction.

Catalogued entities carry the Wikidata/GeoNames ids their catalogue entry marks as checked (a
wrong id is worse than none). In-article identity (aliases, metonymy, demonyms, short
references) is resolved in ``kg.extract.entities``; this stage only attaches what is known of
the thing itself.

Places, catalogued or not, are then located with the offline GeoNames gazetteer (``kg.gazetteer``):
GeoNames id, coordinates, the state they lie in and their first-level region. The catalogue wins
where it knows (its checked ids, its ``country`` and ``region`` keys); the gazetteer is asked in
the context of the article (the states it names), so "Odessa" next to "Ukraine" is the Ukrainian
city. The regions and states that places point to are described too, without mentions, so that
"interceptions in Russian regions" can be asked of the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from kg.catalog import Catalog, CatalogEntry
from kg.gazetteer import Gazetteer, GeoPlace, country_code, load_gazetteer, name_key
from kg.model import Entity, Extraction
from kg.rdf import ID, entity_iri, slug

#: Place subtypes the gazetteer cannot locate (it has cities, regions and countries only): a base
#: named after a town is not at the town's point.
_UNLOCATED = {"Facility", "WaterBody"}
_KIND = {"City": "city", "Region": "region", "Country": "country"}
_REGION_WORD_AFTER = re.compile(r"\s+(?:region|regions|oblast|oblasts|province|provinces|governorate|krai)\b",
                                re.IGNORECASE)


def _catalog_key(iri: str) -> str | None:
    rest = iri[len(ID):] if iri.startswith(ID) else None
    if not rest or "/" not in rest:
        return None
    return rest.split("/", 1)[1]


@dataclass(frozen=True)
class _Geography:
    """What the catalogue says about geography, indexed once per (catalogue, gazetteer)."""

    iso_of_state: dict[str, str]          # state key -> ISO 3166-1 alpha-2
    state_of_iso: dict[str, str]          # ISO -> state key
    place_of_geonames: dict[str, str]     # checked GeoNames id -> place key
    region_of_name: dict[tuple[str, str], str]  # (ISO, name key) -> Region key


@lru_cache(maxsize=4)
def _geography(catalog: Catalog, gazetteer: Gazetteer) -> _Geography:
    iso_of_state: dict[str, str] = {}
    for entry in catalog.by_type("Actor"):
        if entry.subtype == "State":
            iso = country_code((entry.label, *entry.aliases), gazetteer)
            if iso:
                iso_of_state[entry.key] = iso
    state_of_iso: dict[str, str] = {}
    for key, iso in iso_of_state.items():
        state_of_iso.setdefault(iso, key)
    place_of_geonames: dict[str, str] = {}
    region_of_name: dict[tuple[str, str], str] = {}
    for entry in catalog.by_type("Place"):
        if entry.geonames:
            place_of_geonames.setdefault(entry.geonames, entry.key)
        iso = iso_of_state.get(entry.country or "")
        if entry.subtype == "Region" and iso:
            for name in (entry.label, *entry.aliases):
                region_of_name.setdefault((iso, name_key(name)), entry.key)
    return _Geography(iso_of_state, state_of_iso, place_of_geonames, region_of_name)


def link(extraction: Extraction, catalog: Catalog, gazetteer: Gazetteer | None = None) -> Extraction:
    """Attach checked external ids and curated aliases from the catalogue, then locate places.

    ``gazetteer`` defaults to the process-wide one (``kg.gazetteer.load_gazetteer``); tests pass
    a small one. Linking a linked extraction changes nothing.
    """
    entities = []
    for entity in extraction.entities:
        entry = catalog.get(_catalog_key(entity.id))
        if entry is None:
            entities.append(entity)
            continue
        curated = () if entry.source.split(":")[0].endswith("institutions.yaml") else entry.aliases
        origin = entity_iri("Actor", entry.origin) if entry.origin and catalog.get(entry.origin) else None
        entities.append(replace(entity, wikidata=entry.wikidata, geonames=entry.geonames or entity.geonames,
                                aliases=tuple(a for a in curated if a != entity.label),
                                origin=origin, nato_name=entry.nato))
    # A weapon's state of origin is described even when the article does not name it, so that
    # "weapon systems by origin" needs no catalogue at query time.
    known = {e.id for e in entities}
    for iri in sorted({e.origin for e in entities if e.origin} - known):
        state = catalog.get(_catalog_key(iri))
        entities.append(Entity(id=iri, label=state.label, type=state.type, subtype=state.subtype,
                               wikidata=state.wikidata, geonames=state.geonames))
    if not any(e.type == "Place" or e.subtype == "State" for e in entities):
        return replace(extraction, entities=tuple(entities))
    gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
    locator = _Locator(catalog, gazetteer, _geography(catalog, gazetteer), extraction.article.text)
    locator.context = locator.countries_of(entities)
    located = [locator.locate(e) for e in entities]
    return replace(extraction, entities=tuple(located) + locator.referenced(located))


@dataclass
class _Locator:
    catalog: Catalog
    gazetteer: Gazetteer
    geo: _Geography
    text: str
    context: frozenset[str] = frozenset()

    def entry(self, entity: Entity) -> CatalogEntry | None:
        return self.catalog.get(_catalog_key(entity.id))

    def countries_of(self, entities: list[Entity]) -> frozenset[str]:
        """ISO codes of the states the article names, and of those its catalogued places lie in."""
        codes = set()
        for entity in entities:
            entry = self.entry(entity)
            if entry is None:
                continue
            key = entry.key if entry.subtype == "State" else entry.country
            if key in self.geo.iso_of_state:
                codes.add(self.geo.iso_of_state[key])
        return frozenset(codes)

    def locate(self, entity: Entity) -> Entity:
        entry = self.entry(entity)
        if entity.type == "Actor" and entity.subtype == "State":
            country = self.gazetteer.country(self.geo.iso_of_state.get(entry.key) if entry else None)
            return replace(entity, geonames=entity.geonames or (country.geonames if country else None))
        if entity.type != "Place":
            return entity
        iso = self.geo.iso_of_state.get(entry.country or "") if entry else None
        place = self._gazetteer_place(entity, entry, {iso} if iso else self.context)
        geonames = entity.geonames or (place.geonames if place else None)
        lat, lon = (entry.lat, entry.lon) if entry and entry.lat is not None else (
            (place.lat, place.lon) if place else (None, None))
        country = entity_iri("Actor", entry.country) if entry and entry.country else None
        if country is None and place is not None and place.country in self.geo.state_of_iso:
            country = entity_iri("Actor", self.geo.state_of_iso[place.country])
        region = entity_iri("Place", entry.region) if entry and entry.region else None
        if region is None and place is not None and place.kind == "city":
            region = self._region_iri(self.gazetteer.region_of(place))
        return replace(entity, geonames=geonames, lat=lat, lon=lon, country=entity.country or country,
                       region=entity.region or region)

    def _gazetteer_place(self, entity: Entity, entry: CatalogEntry | None,
                         countries: frozenset[str] | set[str]) -> GeoPlace | None:
        if entity.subtype in _UNLOCATED:
            return None
        if entity.geonames:  # a checked catalogue id wins; its point only if it is that feature
            return self.gazetteer.get(entity.geonames)
        kind = _KIND.get(entity.subtype or "")
        if entry is None and kind != "region" and any(
                _REGION_WORD_AFTER.match(self.text, m.end) for m in entity.mentions):
            kind = "region"  # "Kursk region" that the extraction kept as the city
        names = (entity.label, *entity.aliases) if entry else (entity.label, *(m.text for m in entity.mentions))
        for name in dict.fromkeys(names):
            place = self.gazetteer.resolve(name, kind, countries)
            if place is not None:
                return place
        return None

    def _region_iri(self, region: GeoPlace | None) -> str | None:
        if region is None:
            return None
        key = self.geo.place_of_geonames.get(region.geonames) or self.geo.region_of_name.get(
            (region.country, name_key(region.name)))
        return entity_iri("Place", key or slug(region.name))

    def referenced(self, entities: list[Entity]) -> tuple[Entity, ...]:
        """The regions and states that located places point to and the article does not name:
        described (label, type, ids, location) without mentions, like the extractor's unmentioned."""
        known = {e.id for e in entities}
        extra: dict[str, Entity] = {}
        for entity in entities:
            for iri in (entity.region, entity.country):
                if iri and iri not in known and iri not in extra:
                    described = self._describe(iri, entity)
                    if described is not None:
                        extra[iri] = self.locate(described)
        # A region added here lies in a state that may not be named either.
        for entity in list(extra.values()):
            if entity.country and entity.country not in known and entity.country not in extra:
                described = self._describe(entity.country, entity)
                if described is not None:
                    extra[entity.country] = self.locate(described)
        return tuple(extra.values())

    def _describe(self, iri: str, source: Entity) -> Entity | None:
        entry = self.catalog.get(_catalog_key(iri))
        if entry is not None:
            return Entity(id=iri, label=entry.label, type=entry.type, subtype=entry.subtype,
                          wikidata=entry.wikidata, geonames=entry.geonames)
        if iri != source.region or source.geonames is None:
            return None
        place = self.gazetteer.get(source.geonames)
        region = self.gazetteer.region_of(place) if place else None
        if region is None:
            return None
        return Entity(id=iri, label=region.name, type="Place", subtype="Region", geonames=region.geonames)
