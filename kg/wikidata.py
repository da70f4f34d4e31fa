"""A small Wikidata client for online linking: label search, entity JSON, and class checks.

Three calls are used: the MediaWiki API's ``wbsearchentities`` (items by English label or alias),
``wbgetentities`` (labels, aliases and the few claims kg reads) and the Query Service for the type
check (is the item a weapon, a place, an organisation...). Every answer is cached on disk (key: URL and
parameters), so running the same linking twice asks Wikidata nothing the second time; the cache also
makes an interrupted run cheap to resume.

Wikimedia asks API clients for a User-Agent that names the client and a contact, for politeness under
load (retry on 429/5xx honouring Retry-After, back off exponentially) and for ``maxlag``: all done here.
Nothing in kg calls this module unless asked to go online (``kg link --online``).
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import httpx

from kg import __version__
from kg.errors import KgError, UsageError
from kg.rdf import WIKIDATA_DIRECT, WIKIDATA_ENTITY, WIKIDATA_SPARQL

DEFAULT_API = "https://www.wikidata.org/w/api.php"
DEFAULT_SPARQL = WIKIDATA_SPARQL
#: Where Wikimedia operators can learn what this client is (their User-Agent policy asks for a contact).
CONTACT_URL = "https://w3id.org/conflict-kg/"
#: Label languages kept as enrichment: English plus the languages of the conflicts kg reports on.
LABEL_LANGUAGES = ("en", "ru", "uk", "ar", "he", "fa", "fr", "de", "es", "zh")
SEARCH_LIMIT = 7
DEFAULT_THRESHOLD = 0.7
_QID = re.compile(r"^Q[1-9]\d*$")
_GETENTITIES_BATCH = 50  # the API's limit of ids per wbgetentities call for anonymous clients
_RETRY_STATUS = {429, 500, 502, 503, 504}


class WikidataError(KgError):
    """Wikidata (or the server configured in its place) could not be reached or answered nonsense."""

    exit_code = 3


#: Wikidata classes an item must belong to before an entity of ours is linked to it, by (type, subtype);
#: the (type, None) row serves every subtype without its own row.
#:
#: Membership is ``(wdt:P31|wdt:P279)/wdt:P279*``: Wikidata models a weapon type sometimes as a subclass
#: of a weapon class (the AK-47 is a subclass of assault rifle) and sometimes as an instance of a
#: metaclass ("weapon model", "aircraft model", "ship class"), which is why those metaclasses are listed
#: beside "weapon". The point of the check is to refuse the film, album or ship named like a missile.
#: The ids were chosen from Wikidata's class tree by hand; changing them needs no other change.
ACCEPTED_CLASSES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("WeaponSystem", None): (
        "Q728",        # weapon
        "Q15142894",   # weapon model
        "Q15142889",   # weapon family
        "Q11436",      # aircraft
        "Q15056993",   # aircraft family
        "Q15056995",   # aircraft model
        "Q484000",     # unmanned aerial vehicle
        "Q11446",      # ship
        "Q559026",     # ship class
    ),
    ("Place", None): (
        "Q2221906",    # geographic location
        "Q618123",     # geographical feature
        "Q56061",      # administrative territorial entity
        "Q486972",     # human settlement
        "Q6256",       # country
    ),
    ("Actor", "State"): (
        "Q6256",       # country
        "Q3624078",    # sovereign state
        "Q7275",       # state
    ),
    ("Actor", "Person"): ("Q5",),  # human
    ("Actor", None): (
        "Q43229",      # organization (armed forces, ministries, armed groups, media, alliances)
        "Q7275",       # state
        "Q6256",       # country
    ),
}


def accepted_classes(type_: str, subtype: str | None) -> tuple[str, ...]:
    """The Wikidata classes (Q-ids) an item must belong to for an entity of this type and subtype."""
    return ACCEPTED_CLASSES.get((type_, subtype)) or ACCEPTED_CLASSES.get((type_, None), ())


# -- what kg reads of an item ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemFacts:
    """The parts of a Wikidata item that linking and enrichment use."""

    qid: str
    labels: dict[str, str] = field(default_factory=dict)             # language -> label
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> aliases
    description: str = ""
    instance_of: tuple[str, ...] = ()     # P31
    subclass_of: tuple[str, ...] = ()     # P279
    nato_names: tuple[str, ...] = ()      # P561 NATO reporting name
    operators: tuple[str, ...] = ()       # P137
    origin_countries: tuple[str, ...] = ()  # P495 country of origin
    countries: tuple[str, ...] = ()       # P17 country (places)
    coordinates: tuple[float, float] | None = None  # P625 as (lat, lon)
    geonames: str | None = None           # P1566 GeoNames id

    @property
    def iri(self) -> str:
        return WIKIDATA_ENTITY + self.qid

    def names(self, language: str = "en") -> tuple[str, ...]:
        label = self.labels.get(language)
        return ((label,) if label else ()) + self.aliases.get(language, ())


def _statements(claims: dict, pid: str) -> list[dict]:
    """The non-deprecated statements of a property, preferred rank first (Wikidata's "best" values)."""
    statements = [s for s in claims.get(pid, ()) if isinstance(s, dict) and s.get("rank") != "deprecated"]
    return sorted(statements, key=lambda s: s.get("rank") != "preferred")


def _values(claims: dict, pid: str) -> list[Any]:
    values = []
    for statement in _statements(claims, pid):
        snak = statement.get("mainsnak") or {}
        if snak.get("snaktype") == "value" and isinstance(snak.get("datavalue"), dict):
            values.append(snak["datavalue"].get("value"))
    return values


def _item_ids(claims: dict, pid: str) -> tuple[str, ...]:
    ids = [v.get("id") for v in _values(claims, pid) if isinstance(v, dict)]
    return tuple(dict.fromkeys(i for i in ids if isinstance(i, str) and _QID.match(i)))


def _strings(claims: dict, pid: str) -> tuple[str, ...]:
    """String values; monolingual text ({"text": ..., "language": ...}) is read as its text."""
    out = []
    for value in _values(claims, pid):
        text = value.get("text") if isinstance(value, dict) else value
        if isinstance(text, str) and text.strip():
            out.append(text.strip())
    return tuple(dict.fromkeys(out))


def parse_entity(qid: str, data: dict) -> ItemFacts:
    """An item of a ``wbgetentities`` answer as ItemFacts (missing parts are empty)."""
    labels = {lang: v["value"] for lang, v in (data.get("labels") or {}).items()
              if isinstance(v, dict) and isinstance(v.get("value"), str)}
    aliases = {lang: tuple(a["value"] for a in values if isinstance(a, dict) and isinstance(a.get("value"), str))
               for lang, values in (data.get("aliases") or {}).items() if isinstance(values, list)}
    description = ((data.get("descriptions") or {}).get("en") or {}).get("value", "")
    claims = data.get("claims") or {}
    coordinates = None
    for value in _values(claims, "P625"):
        # Only points on Earth (Q2); Wikidata also holds coordinates on the Moon and Mars.
        if isinstance(value, dict) and str(value.get("globe", "")).endswith("/Q2"):
            lat, lon = value.get("latitude"), value.get("longitude")
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                coordinates = (float(lat), float(lon))
                break
    geonames = next((g for g in _strings(claims, "P1566") if re.fullmatch(r"[1-9]\d*", g)), None)
    return ItemFacts(qid=qid, labels=labels, aliases=aliases, description=description,
                     instance_of=_item_ids(claims, "P31"), subclass_of=_item_ids(claims, "P279"),
                     nato_names=_strings(claims, "P561"), operators=_item_ids(claims, "P137"),
                     origin_countries=_item_ids(claims, "P495"), countries=_item_ids(claims, "P17"),
                     coordinates=coordinates, geonames=geonames)


# -- scoring -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Candidate:
    """A search result, scored: ``confidence`` is 0 when the item failed the type check."""

    qid: str
    label: str
    description: str
    rank: int                 # 0-based position in Wikidata's search results
    matched_name: str         # the item's label or alias that matched best
    name_score: float
    type_ok: bool
    confidence: float
    reason: str = ""          # why it was not linked, for --dry-run

    @property
    def iri(self) -> str:
        return WIKIDATA_ENTITY + self.qid


def fold(name: str) -> str:
    """Case, accents and punctuation removed: "S-400 Triumf" and "s400 triumf" fold alike."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", "", text) or name.casefold()


def name_score(name: str, label: str | None, aliases: Sequence[str]) -> tuple[float, str]:
    """How well ``name`` matches an item's label or aliases, in [0, 1], and the matching name.

    Exact label 1.0, exact alias 0.95, label or alias equal once case, accents and punctuation are
    folded 0.9 / 0.85; otherwise string similarity scaled to at most 0.6, below any sensible threshold."""
    best = (0.0, "")
    key = name.casefold().strip()
    for candidate, exact, folded in ([(label, 1.0, 0.9)] if label else []) + [(a, 0.95, 0.85) for a in aliases]:
        if candidate.casefold().strip() == key:
            score = exact
        elif fold(candidate) == fold(name):
            score = folded
        else:
            score = 0.6 * SequenceMatcher(None, fold(candidate), fold(name)).ratio()
        if score > best[0]:
            best = (score, candidate)
    return best


def rank_factor(rank: int) -> float:
    """Wikidata's search ranks popular items first: a lower rank lowers confidence a little."""
    return max(0.75, 1.0 - 0.05 * rank)


#: Confidence is multiplied by this when another item that passed the type check matches the name as
#: well (two places called "Odessa"): by default such a link falls below the threshold.
AMBIGUITY_FACTOR = 0.65
#: ... and by this when the entity is a place whose state we know and the item lies in another state.
OTHER_COUNTRY_FACTOR = 0.5


def score_candidates(name: str, results: Sequence[dict], facts: dict[str, ItemFacts], typed: set[str],
                     country: str | None = None) -> list[Candidate]:
    """Score search results for ``name``; best first.

    ``typed``: the ids that passed the type check; ``country``: the Q-id of the state a place lies in,
    when known, to tell "Odessa, Ukraine" from "Odessa, Texas". Confidence is name match x rank factor,
    x AMBIGUITY_FACTOR when another well-typed item matches as well, x OTHER_COUNTRY_FACTOR for a place
    in another state; 0 for an item of the wrong type."""
    scored = []
    for rank, result in enumerate(results):
        qid = result["id"]
        item = facts.get(qid)
        label = (item.labels.get("en") if item else None) or result.get("label")
        aliases = item.aliases.get("en", ()) if item else tuple(result.get("aliases") or ())
        score, matched = name_score(name, label, aliases)
        confidence = score * rank_factor(rank)
        reason = ""
        if qid not in typed:
            confidence, reason = 0.0, "not of an accepted class"
        elif country and item and item.countries and country not in item.countries:
            confidence *= OTHER_COUNTRY_FACTOR
            reason = "in another state"
        scored.append(Candidate(qid, label or "", result.get("description") or (item.description if item else ""),
                                rank, matched, score, qid in typed, confidence, reason))
    # Ambiguity: another well-typed item (in the right state, when we know it) matching at least as well.
    for i, candidate in enumerate(scored):
        rivals = [c for c in scored if c is not candidate and c.type_ok and c.reason != "in another state"
                  and c.name_score >= candidate.name_score]
        if candidate.confidence > 0 and rivals:
            scored[i] = replace(candidate, confidence=candidate.confidence * AMBIGUITY_FACTOR,
                                 reason=candidate.reason or f"ambiguous with {rivals[0].qid}")
    return sorted(scored, key=lambda c: (-c.confidence, c.rank))


# -- the disk cache ----------------------------------------------------------------------------------

class ResponseCache:
    """Answers by request key in one SQLite file; a missing or unwritable file only costs requests."""

    def __init__(self, path: Path | None, max_age: float | None = None):
        self.path = path
        self.max_age = max_age
        self._db: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, url TEXT NOT NULL, "
                             "fetched REAL NOT NULL, body TEXT NOT NULL)")
            self._db.commit()
        except sqlite3.Error:
            self._db = None  # e.g. a read-only home: go on without a cache

    def get(self, key: str) -> str | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT fetched, body FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None or (self.max_age is not None and time.time() - row[0] > self.max_age):
            return None
        return row[1]

    def put(self, key: str, url: str, body: str) -> None:
        if self._db is None:
            return
        try:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", (key, url, time.time(), body))
            self._db.commit()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def default_cache_path() -> Path:
    """$KG_CACHE_DIR/wikidata.sqlite (or $XDG_CACHE_HOME/kg, ~/.cache/kg): shared by all stores."""
    from kg.gazetteer import cache_dir

    return cache_dir() / "wikidata.sqlite"


# -- the client --------------------------------------------------------------------------------------

def user_agent() -> str:
    """Wikimedia's format: client/version (contact) library/version; KG_WIKIDATA_CONTACT adds yours."""
    contact = os.environ.get("KG_WIKIDATA_CONTACT", "").strip()
    contact = f"{CONTACT_URL}; {contact}" if contact else CONTACT_URL
    return f"kg/{__version__} ({contact}) httpx/{httpx.__version__}"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class WikidataClient:
    """Wikidata's API and Query Service over httpx, with retries, politeness and a disk cache.

    ``api_url``/``sparql_url`` default to $KG_WIKIDATA_API/$KG_WIKIDATA_SPARQL, else Wikidata itself.
    ``sleep`` is how the client waits between attempts (tests pass one that records the waits).
    ``requests`` counts HTTP requests actually sent; ``cache_hits`` answers read from the cache."""

    def __init__(self, api_url: str | None = None, sparql_url: str | None = None, *,
                 cache_path: Path | None = None, use_cache: bool = True, refresh: bool = False,
                 max_age_days: float | None = 30, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 1.0, max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep):
        self.api_url = _check_url(api_url or os.environ.get("KG_WIKIDATA_API") or DEFAULT_API, "--wikidata-api")
        self.sparql_url = _check_url(sparql_url or os.environ.get("KG_WIKIDATA_SPARQL") or DEFAULT_SPARQL,
                                     "--wikidata-sparql")
        max_age = max_age_days * 86400 if max_age_days is not None else None
        path = (cache_path or default_cache_path()) if use_cache else None
        self.cache = ResponseCache(path, max_age)
        self.refresh = refresh
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests = 0
        self.cache_hits = 0
        self.waits: list[float] = []
        self._http = httpx.Client(headers={"User-Agent": user_agent(), "Accept-Encoding": "gzip"},
                                  timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                  follow_redirects=True)

    def __enter__(self) -> WikidataClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self.cache.close()

    # -- the three calls ---------------------------------------------------------------------------
    def search(self, name: str, language: str = "en", limit: int = SEARCH_LIMIT) -> list[dict]:
        """Items whose label or alias matches ``name`` (wbsearchentities), in Wikidata's order."""
        payload = self._api({"action": "wbsearchentities", "search": name, "language": language,
                             "uselang": language, "type": "item", "limit": str(limit)})
        results = payload.get("search")
        if not isinstance(results, list):
            raise WikidataError(f"{self.api_url}: the wbsearchentities answer has no 'search' list. "
                                "Check that --wikidata-api points at a Wikibase API (…/w/api.php)")
        return [r for r in results if isinstance(r, dict) and isinstance(r.get("id"), str) and _QID.match(r["id"])]

    def entities(self, ids: Iterable[str], languages: Sequence[str] = LABEL_LANGUAGES) -> dict[str, ItemFacts]:
        """Labels, aliases and claims of items (wbgetentities, 50 ids a call); missing items are left out."""
        wanted = sorted({i for i in ids if _QID.match(i)}, key=lambda q: int(q[1:]))
        facts: dict[str, ItemFacts] = {}
        for start in range(0, len(wanted), _GETENTITIES_BATCH):
            batch = wanted[start:start + _GETENTITIES_BATCH]
            payload = self._api({"action": "wbgetentities", "ids": "|".join(batch),
                                 "props": "labels|aliases|descriptions|claims", "languages": "|".join(languages)})
            entities = payload.get("entities")
            if not isinstance(entities, dict):
                raise WikidataError(f"{self.api_url}: the wbgetentities answer has no 'entities' object. "
                                    "Check that --wikidata-api points at a Wikibase API (…/w/api.php)")
            for qid, data in entities.items():
                if qid in batch and isinstance(data, dict) and "missing" not in data:
                    facts[qid] = parse_entity(qid, data)
        return facts

    def of_classes(self, ids: Iterable[str], classes: Sequence[str]) -> set[str]:
        """Those of ``ids`` that are instances or subclasses (P31|P279, then P279*) of one of ``classes``.

        Ids and classes are checked Q-ids (from Wikidata's answers and kg's table), so they are written
        into the query text; nothing from articles is."""
        items = sorted({i for i in ids if _QID.match(i)}, key=lambda q: int(q[1:]))
        classes = [c for c in classes if _QID.match(c)]
        if not items or not classes:
            return set()
        query = (f"PREFIX wd: <{WIKIDATA_ENTITY}>\nPREFIX wdt: <{WIKIDATA_DIRECT}>\n"
                 "SELECT DISTINCT ?item WHERE {\n"
                 f"  VALUES ?item {{ {' '.join('wd:' + i for i in items)} }}\n"
                 f"  VALUES ?class {{ {' '.join('wd:' + c for c in classes)} }}\n"
                 "  ?item (wdt:P31|wdt:P279)/wdt:P279* ?class .\n}")
        payload = self._get_json(self.sparql_url, {"query": query}, "application/sparql-results+json",
                                 "--wikidata-sparql")
        bindings = (payload.get("results") or {}).get("bindings") if isinstance(payload, dict) else None
        if not isinstance(bindings, list):
            raise WikidataError(f"{self.sparql_url}: the answer is not SPARQL JSON results (no results.bindings). "
                                "Check that --wikidata-sparql points at a SPARQL endpoint")
        typed = set()
        for row in bindings:
            value = ((row or {}).get("item") or {}).get("value", "")
            if value.startswith(WIKIDATA_ENTITY):
                typed.add(value[len(WIKIDATA_ENTITY):])
        return typed & set(items)

    # -- HTTP ------------------------------------------------------------------------------------------
    def _api(self, params: dict[str, str]) -> dict:
        # maxlag: when Wikidata's replicas lag, the API answers an error with Retry-After instead of
        # adding load; formatversion 1 is the format kg parses (and Wikidata's documented default).
        payload = self._get_json(self.api_url, {**params, "format": "json", "maxlag": "5"}, "application/json",
                                 "--wikidata-api")
        if not isinstance(payload, dict):
            raise WikidataError(f"{self.api_url}: the answer is JSON but not an object. "
                                "Check that --wikidata-api points at a Wikibase API (…/w/api.php)")
        error = payload.get("error")
        if isinstance(error, dict):
            raise WikidataError(f"{self.api_url}: Wikidata refused {params.get('action')}: "
                                f"{error.get('code', '?')}: {error.get('info', '')}")
        return payload

    def _get_json(self, url: str, params: dict[str, str], accept: str, option: str) -> Any:
        key = json.dumps([url, sorted(params.items())], ensure_ascii=False)
        if not self.refresh:
            cached = self.cache.get(key)
            if cached is not None:
                self.cache_hits += 1
                return json.loads(cached)
        body = self._fetch(url, params, accept, option)
        try:
            payload = json.loads(body)
        except ValueError:
            snippet = body[:80].replace("\n", " ")
            raise WikidataError(f"{url}: the answer is not JSON ({snippet!r}). Check {option}: it must point "
                                "at Wikidata or a server that answers in Wikidata's formats") from None
        self.cache.put(key, url, body)
        return payload

    def _fetch(self, url: str, params: dict[str, str], accept: str, option: str) -> str:
        """GET with retries on 429, 5xx, maxlag and connection errors; the body text of a 200."""
        problem = ""
        for attempt in range(self.retries + 1):
            self.requests += 1
            retry_after = None
            try:
                response = self._http.get(url, params=params, headers={"Accept": accept})
            except httpx.TransportError as err:
                problem = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            else:
                if response.status_code in _RETRY_STATUS or _is_maxlag(response):
                    problem = f"HTTP {response.status_code}" + (" (maxlag)" if response.status_code == 200 else "")
                    retry_after = _retry_after(response)
                elif response.status_code != 200:
                    snippet = response.text[:120].replace("\n", " ")
                    raise WikidataError(f"{url}: HTTP {response.status_code} ({snippet!r}). Check {option}; "
                                        "Wikimedia answers 403 to clients whose User-Agent it blocks")
                else:
                    return response.text
            if attempt < self.retries:
                # The server's Retry-After wins over our own exponential backoff.
                wait = min(self.max_wait, retry_after if retry_after is not None else self.backoff * 2 ** attempt)
                self.waits.append(wait)
                self.sleep(wait)
        raise WikidataError(f"{url}: no answer after {self.retries + 1} attempts (last: {problem}). Check the "
                            f"network or {option}; kg works offline without --online, from the catalogue")


def _is_maxlag(response: httpx.Response) -> bool:
    if response.status_code != 200 or "maxlag" not in response.text[:200]:
        return False
    try:
        return (response.json().get("error") or {}).get("code") == "maxlag"
    except (ValueError, AttributeError):
        return False


def _check_url(url: str, option: str) -> str:
    parsed = httpx.URL(url) if re.match(r"^https?://[^\s<>\"{}|\\^`]+$", url) else None
    if parsed is None or not parsed.host:
        raise UsageError(f"{option} {url!r}: not an http(s) URL. Give e.g. {DEFAULT_API} or {DEFAULT_SPARQL}")
    return url
