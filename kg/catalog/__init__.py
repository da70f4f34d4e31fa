"""Curated catalogues (actors, weapon systems, places, institutions, lexicons) and their loader.

The catalogues are YAML files beside this module; changing them needs no code change. The loader
validates every entry, reports every problem at once with file and line, and expands spelling
variants ("S-400" / "S400" / "S 400") and per-state institutions ("Russian defense ministry",
"Ukraine's air force") from templates, so the data files stay short and general.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kg.errors import CatalogError
from kg.model import ENTITY_TYPES, SUBTYPES

CATALOG_DIR = Path(__file__).resolve().parent
ENTITY_FILES = {"actors.yaml": "Actor", "weapons.yaml": "WeaponSystem", "places.yaml": "Place"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9./-]*$")
_QID = re.compile(r"^Q[1-9]\d*$")
_GEONAMES = re.compile(r"^[1-9]\d*$")
_ENTRY_FIELDS = {
    "key", "label", "subtype", "aliases", "acronyms", "demonyms", "metonyms", "capital", "parent",
    "origin", "nato", "wikidata", "wikidata_checked", "geonames", "geonames_checked", "region",
    "country", "kind", "lat", "lon", "__line__",
}


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One catalogued thing: its canonical label, type, names and (checked) external ids."""

    key: str
    label: str
    type: str
    subtype: str
    aliases: tuple[str, ...] = ()       # matched case-insensitively
    acronyms: tuple[str, ...] = ()      # matched case-sensitively ("US" must not match "us")
    demonyms: tuple[str, ...] = ()      # "Russian"; used by templates, not matched alone
    metonyms: tuple[str, ...] = ()      # names that stand for this actor ("the Kremlin")
    capital: str | None = None          # place key of the capital (metonymy: "Kyiv denied")
    parent: str | None = None           # the actor this one belongs to (a state's air force)
    origin: str | None = None           # weapons: the state that makes it
    nato: str | None = None             # NATO reporting name
    wikidata: str | None = None         # only ids marked checked are kept
    geonames: str | None = None
    region: str | None = None           # places: key of the same-named region ("Kursk" city -> oblast)
    country: str | None = None          # places: key of the state it lies in
    kind: str | None = None             # free classifier used by short references ("alliance")
    lat: float | None = None
    lon: float | None = None
    source: str = ""                    # file:line, for messages

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases, *self.acronyms, *self.metonyms)


@dataclass(eq=False)  # identity: one catalogue per process, cached by object
class Catalog:
    """All entries by key, plus the lexicons that drive statements and events."""

    entries: dict[str, CatalogEntry] = field(default_factory=dict)
    lexicon: dict[str, Any] = field(default_factory=dict)
    _by_type: dict[str, list[CatalogEntry]] = field(default_factory=dict, repr=False)

    def get(self, key: str | None) -> CatalogEntry | None:
        return self.entries.get(key) if key else None

    def by_type(self, type_: str) -> list[CatalogEntry]:
        """Entries of one type (computed once: extraction asks for them per article)."""
        if type_ not in self._by_type:
            self._by_type[type_] = [e for e in self.entries.values() if e.type == type_]
        return self._by_type[type_]

    def ancestors(self, key: str) -> list[str]:
        """The key and every parent up the chain (an air force's state)."""
        chain, seen = [], set()
        while key and key not in seen:
            seen.add(key)
            chain.append(key)
            entry = self.entries.get(key)
            key = entry.parent if entry else None
        return chain


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available
    """A YAML loader that records the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name ("Ménaka" -> "menaka"), with one apostrophe."""
    if text.isascii():
        return text.casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def spelling_variants(name: str) -> set[str]:
    """Hyphen/space variants of model designations: "S-400" -> {"S-400", "S400", "S 400"}."""
    variants = {name}
    if re.search(r"[A-Za-z]-\d|\d-[A-Za-z]", name):
        variants.add(re.sub(r"(?<=[A-Za-z])-(?=\d)|(?<=\d)-(?=[A-Za-z])", "", name))
        variants.add(re.sub(r"(?<=[A-Za-z])-(?=\d)|(?<=\d)-(?=[A-Za-z])", " ", name))
    return variants


def _as_tuple(value: Any, where: str, name: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    problems.append(f"{where}: '{name}' must be a string or a list of strings")
    return ()


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.load(f, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as err:
        problems.append(f"{path}: cannot read: {err}")
        return None


def _entry(raw: dict[str, Any], type_: str, path: Path, problems: list[str]) -> CatalogEntry | None:
    where = f"{path}:{raw.get('__line__', '?')}"
    unknown = set(raw) - _ENTRY_FIELDS
    if unknown:
        problems.append(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_ENTRY_FIELDS - {'__line__'})}")
    key, label, subtype = raw.get("key"), raw.get("label"), raw.get("subtype")
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append(f"{where}: 'key' must be lower-case letters, digits, '-', '.', '/' (got {key!r})")
        return None
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}: entry {key!r} needs a non-empty 'label'")
        return None
    if subtype not in SUBTYPES[type_]:
        problems.append(f"{where}: {key!r} has subtype {subtype!r}; use one of {', '.join(SUBTYPES[type_])}")
        return None
    wikidata = raw.get("wikidata")
    if wikidata is not None and (not isinstance(wikidata, str) or not _QID.match(wikidata)):
        problems.append(f"{where}: {key!r} wikidata {wikidata!r} is not of the form Q123")
        wikidata = None
    geonames = raw.get("geonames")
    if geonames is not None:
        geonames = str(geonames)
        if not _GEONAMES.match(geonames):
            problems.append(f"{where}: {key!r} geonames {geonames!r} is not a positive number")
            geonames = None
    return CatalogEntry(
        key=key, label=label.strip(), type=type_, subtype=subtype,
        aliases=_as_tuple(raw.get("aliases"), where, "aliases", problems),
        acronyms=_as_tuple(raw.get("acronyms"), where, "acronyms", problems),
        demonyms=_as_tuple(raw.get("demonyms"), where, "demonyms", problems),
        metonyms=_as_tuple(raw.get("metonyms"), where, "metonyms", problems),
        capital=raw.get("capital"), parent=raw.get("parent"), origin=raw.get("origin"),
        nato=raw.get("nato"),
        # A wrong id is worse than none: only ids a maintainer checked are kept.
        wikidata=wikidata if raw.get("wikidata_checked") is True else None,
        geonames=geonames if raw.get("geonames_checked", raw.get("wikidata_checked")) is True else None,
        region=raw.get("region"), country=raw.get("country"), kind=raw.get("kind"),
        lat=raw.get("lat"), lon=raw.get("lon"), source=where,
    )


def _expand_institutions(templates: list[dict[str, Any]], states: list[CatalogEntry],
                         path: Path, problems: list[str]) -> list[CatalogEntry]:
    """Per-state institutions from templates: "{Demonym} defense ministry", "{State}'s air force"."""
    out = []
    for tpl in templates:
        where = f"{path}:{tpl.get('__line__', '?')}"
        subtype = tpl.get("subtype")
        if subtype not in SUBTYPES["Actor"]:
            problems.append(f"{where}: template subtype {subtype!r} is not an Actor subtype")
            continue
        patterns = _as_tuple(tpl.get("patterns"), where, "patterns", problems)
        for state in states:
            demonyms = state.demonyms or ()
            names = (state.label, *state.aliases)
            surfaces: set[str] = set()
            for pattern in patterns:
                if "{Demonym}" in pattern:
                    surfaces.update(pattern.replace("{Demonym}", d) for d in demonyms)
                elif "{State}" in pattern:
                    surfaces.update(pattern.replace("{State}", n) for n in names)
                else:
                    problems.append(f"{where}: pattern {pattern!r} names neither {{Demonym}} nor {{State}}")
            if not surfaces:
                continue
            demonym = demonyms[0] if demonyms else state.label
            label = tpl["label"].replace("{Demonym}", demonym).replace("{State}", state.label)
            out.append(CatalogEntry(
                key=f"{state.key}/{tpl['key']}", label=label, type="Actor", subtype=subtype,
                aliases=tuple(sorted(surfaces)), parent=state.key, kind=tpl.get("kind"),
                source=where))
    return out


def _merge(base: CatalogEntry, extra: CatalogEntry) -> CatalogEntry:
    """A curated entry overrides a generated one with the same key but keeps its surfaces."""
    aliases = tuple(dict.fromkeys((*base.aliases, *extra.aliases)))
    return CatalogEntry(**{**{f: getattr(base, f) for f in base.__slots__},  # type: ignore[attr-defined]
                           "aliases": aliases})


@lru_cache(maxsize=4)
def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    """Load and validate every catalogue file in ``directory``; raise CatalogError listing all problems."""
    problems: list[str] = []
    catalog = Catalog()
    for filename, type_ in ENTITY_FILES.items():
        path = directory / filename
        data = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{path}: must be a list of entries")
            continue
        for raw in data:
            if not isinstance(raw, dict):
                problems.append(f"{path}: every entry must be a mapping (got {raw!r})")
                continue
            entry = _entry(raw, type_, path, problems)
            if entry is None:
                continue
            if entry.key in catalog.entries:
                problems.append(f"{entry.source}: key {entry.key!r} already used at "
                                f"{catalog.entries[entry.key].source}; keep one entry")
                continue
            catalog.entries[entry.key] = entry

    institutions = directory / "institutions.yaml"
    templates = _read_yaml(institutions, problems) or []
    states = [e for e in catalog.entries.values() if e.subtype == "State"]
    for generated in _expand_institutions(templates, states, institutions, problems):
        curated = catalog.entries.get(generated.key)
        catalog.entries[generated.key] = _merge(curated, generated) if curated else generated

    lexicon = _read_yaml(directory / "lexicon.yaml", problems)
    catalog.lexicon = _strip_lines(lexicon) if isinstance(lexicon, dict) else {}

    _check_references(catalog, problems)
    _check_wikidata_unique(catalog, problems)
    if problems:
        raise CatalogError(problems)
    return catalog


def _strip_lines(value: Any) -> Any:
    """The lexicon without the loader's line markers."""
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _check_references(catalog: Catalog, problems: list[str]) -> None:
    for entry in catalog.entries.values():
        for attr in ("capital", "parent", "origin", "region", "country"):
            ref = getattr(entry, attr)
            if ref and ref not in catalog.entries:
                problems.append(f"{entry.source}: {entry.key!r} {attr} {ref!r} is not a catalogue key")


def _check_wikidata_unique(catalog: Catalog, problems: list[str]) -> None:
    seen: dict[str, str] = {}
    for entry in catalog.entries.values():
        if entry.wikidata:
            other = seen.setdefault(entry.wikidata, entry.key)
            if other != entry.key:
                problems.append(f"{entry.source}: wikidata {entry.wikidata} is also on {other!r}; "
                                "one item is one thing")


assert set(ENTITY_FILES.values()) == set(ENTITY_TYPES)
