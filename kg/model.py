"""The contracts between pipeline stages: frozen, JSON-serialisable dataclasses.

Offsets are always character offsets into ``Article.text`` (end exclusive). ``to_json`` here is
the only serialisation of an ``Extraction``; ``kg extract --format json`` prints exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = ("Actor", "WeaponSystem", "Place")
SUBTYPES: dict[str, tuple[str, ...]] = {
    "Actor": ("State", "ArmedForce", "GovernmentBody", "InternationalOrganization",
              "NonStateArmedGroup", "Person", "MediaOutlet"),
    "WeaponSystem": ("SurfaceToAirMissileSystem", "UnmannedAerialVehicle", "BallisticMissile",
                     "CruiseMissile", "Aircraft", "Artillery", "RocketArtillery", "ArmoredVehicle",
                     "Ship", "Other"),
    "Place": ("Country", "Region", "City", "Facility", "WaterBody", "Other"),
}
EVENT_TYPES = ("Attack", "Interception", "Deployment", "Casualties", "TerritorialChange",
               "MilitaryAid", "Launch", "Exercise")
STANCES = ("assert", "deny", "accuse", "call", "concern")
COUNT_QUALIFIERS = ("exact", "at_least", "at_most", "approximately", "more_than")


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of the article: an entity's surface form, or a sentence used as evidence."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Article:
    """One article as read from disk or stdin, before any language processing.

    ``text`` is what is analysed and what offsets point into: the headline (when known), a blank
    line, then the body. Publisher and section lines are metadata, not text.
    """

    id: str                      # the URL when given, else "sha256:<hex>" of the text
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None  # ISO date (YYYY-MM-DD) when known
    path: str | None = None       # file (and ":line" for JSONL) it came from
    section: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """One real-world thing named in an article, with every surface form that names it."""

    id: str                       # IRI, shared across articles
    label: str
    type: str                     # ENTITY_TYPES
    subtype: str | None
    mentions: tuple[Mention, ...] = ()
    wikidata: str | None = None
    geonames: str | None = None
    aliases: tuple[str, ...] = ()  # catalogue aliases (not necessarily in this text)
    # Where a place is (kg.link, from the catalogue or the GeoNames gazetteer); None when unknown.
    lat: float | None = None       # WGS84 degrees
    lon: float | None = None
    country: str | None = None     # entity IRI of the state it lies in
    region: str | None = None      # entity IRI of the first-level region it lies in
    # Weapon systems (kg.link, from the catalogue): the state that makes it, and the NATO name.
    origin: str | None = None      # entity IRI of the state of origin
    nato_name: str | None = None   # NATO reporting name ("Growler" for the S-400)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A count with its qualifier: "at least 16" is (16, at_least); "dozens" is (None, approximately)."""

    value: int | None
    qualifier: str = "exact"      # COUNT_QUALIFIERS
    text: str = ""


@dataclass(frozen=True, slots=True)
class TimeExpression:
    """When something happened: the words used, and a date or interval when it can be resolved."""

    text: str
    value: str | None = None      # xsd:date "2024-08-06", or "2024-08-05/2024-08-06" for an interval
    precision: str | None = None  # "day", "week", "month", "year", "interval"


@dataclass(frozen=True, slots=True)
class Event:
    """An occurrence (strike, interception, deployment...) with its arguments and evidence."""

    id: str
    type: str                     # EVENT_TYPES
    sentence: Mention             # where it is first stated
    trigger: str = ""
    agent: str | None = None      # entity IRIs
    target: str | None = None
    weapons: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    quantity: Quantity | None = None
    time: TimeExpression | None = None
    evidence: tuple[Mention, ...] = ()
    # Told of "the drones" with no agent: a later detail of an occurrence reported before.
    is_anaphoric: bool = False

    @property
    def count(self) -> int | None:
        return self.quantity.value if self.quantity else None


@dataclass(frozen=True, slots=True)
class Statement:
    """An attributed utterance: who said, claimed, denied, accused or urged what, and how hedged."""

    id: str
    sentence: Mention
    verb: str                     # the reporting verb's lemma, or "according to"
    stance: str                   # STANCES
    speaker: str | None = None    # entity IRI; None for unnamed sources
    speaker_text: str | None = None  # the words naming the speaker ("officials", "a spokesperson")
    hedged: bool = False
    hedges: tuple[str, ...] = ()  # the cues that make it hedged
    content: str = ""
    about: tuple[str, ...] = ()   # event IRIs
    sources: tuple[str, ...] = ()  # entity IRIs cited by the speaker ("citing the air force")


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything extracted from one article."""

    article: Article
    entities: tuple[Entity, ...] = ()
    events: tuple[Event, ...] = ()
    statements: tuple[Statement, ...] = ()
    sentences: tuple[Mention, ...] = field(default=())


def sentence_mention(span: Any) -> Mention:
    """A sentence (spaCy Span) as evidence, without the whitespace spaCy attaches to its end."""
    text = span.text
    stripped = text.rstrip()
    lead = len(stripped) - len(stripped.lstrip())
    return Mention(stripped.lstrip(), span.start_char + lead, span.start_char + len(stripped))


def _mention(m: Mention) -> dict[str, Any]:
    return {"text": m.text, "start": m.start, "end": m.end}


def to_json(extraction: Extraction) -> dict[str, Any]:
    """The stable JSON contract of ``kg extract`` (see ARCHITECTURE.md)."""
    a = extraction.article
    return {
        "article": {"id": a.id, "title": a.title, "source": a.source, "url": a.url,
                    "published": a.published, "path": a.path},
        "entities": [
            {"id": e.id, "label": e.label, "type": e.type, "subtype": e.subtype,
             "wikidata": e.wikidata, "geonames": e.geonames,
             "mentions": [_mention(m) for m in e.mentions]}
            for e in extraction.entities
        ],
        "events": [
            {"id": ev.id, "type": ev.type, "trigger": ev.trigger, "agent": ev.agent,
             "target": ev.target, "weapons": list(ev.weapons), "places": list(ev.places),
             "count": ev.count,
             "count_qualifier": ev.quantity.qualifier if ev.quantity else None,
             "count_text": ev.quantity.text if ev.quantity else None,
             "time": ev.time.text if ev.time else None,
             "time_value": ev.time.value if ev.time else None,
             "sentence": ev.sentence.text, "start": ev.sentence.start, "end": ev.sentence.end,
             "evidence": [{"sentence": m.text, "start": m.start, "end": m.end} for m in ev.evidence]}
            for ev in extraction.events
        ],
        "statements": [
            {"id": s.id, "speaker": s.speaker, "speaker_text": s.speaker_text, "verb": s.verb,
             "stance": s.stance, "hedged": s.hedged, "hedges": list(s.hedges), "content": s.content,
             "about": list(s.about), "sources": list(s.sources),
             "sentence": s.sentence.text, "start": s.sentence.start, "end": s.sentence.end}
            for s in extraction.statements
        ],
    }
