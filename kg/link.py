"""Linking: canonical identity and external ids of the entities of an extraction.

Catalogued entities carry the Wikidata/GeoNames ids their catalogue entry marks as checked (a
wrong id is worse than none). In-article identity (aliases, metonymy, demonyms, short
references) is resolved in ``kg.extract.entities``; this stage only attaches what is known of
the thing itself, so it can later consult gazetteers and Wikidata without touching extraction.
"""

from __future__ import annotations

from dataclasses import replace

from kg.catalog import Catalog
from kg.model import Extraction
from kg.rdf import ID


def _catalog_key(iri: str) -> str | None:
    rest = iri[len(ID):] if iri.startswith(ID) else None
    if not rest or "/" not in rest:
        return None
    return rest.split("/", 1)[1]


def link(extraction: Extraction, catalog: Catalog) -> Extraction:
    """Attach checked external ids and curated aliases from the catalogue."""
    entities = []
    for entity in extraction.entities:
        entry = catalog.get(_catalog_key(entity.id))
        if entry is None:
            entities.append(entity)
            continue
        curated = () if entry.source.split(":")[0].endswith("institutions.yaml") else entry.aliases
        entities.append(replace(entity, wikidata=entry.wikidata, geonames=entry.geonames,
                                aliases=tuple(a for a in curated if a != entity.label)))
    return replace(extraction, entities=tuple(entities))
