"""Entities and their mentions: catalogue matches, the model's names, and in-article references.

One entity per real-world thing per article. Rules, in order:
- catalogue matches (entity ruler) win over the small model's labels (Kursk is not a PRODUCT);
- a capital is its state when it acts ("Kyiv denied", "Tokyo would press Tehran") and a city when
  it is a place ("in Kyiv", the "KYIV >>" dateline);
- a city followed by "region(s)"/"oblast" ("the Kursk and Belgorod regions") is its region;
- acronyms defined in the text ("Rapid Support Forces (RSF)") and surnames of people named in full
  ("Hayashi" after "Yoshimasa Hayashi") are further mentions of the same entity;
- definite short references ("the ministry", "the alliance", "the air force") are mentions of the
  nearest earlier entity of that kind;
- demonym phrases used as modifiers ("Ukrainian military installations") are not actors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from spacy.tokens import Doc, Span

from kg.catalog import Catalog, CatalogEntry, fold
from kg.model import Entity, Mention
from kg.rdf import entity_iri, slug

_REGION_WORDS = {"region", "regions", "oblast", "oblasts", "province", "provinces", "governorate",
                 "governorates", "krai", "district", "districts"}
_LOCATIVE_PREPS = {"in", "at", "near", "over", "into", "around", "outside", "across", "toward",
                   "towards", "to", "from", "within", "on", "through", "throughout", "inside", "off",
                   "above", "beyond", "between", "via", "outskirts"}
_MEDIA_WORDS = {"news", "times", "press", "post", "agency", "tv", "television", "radio", "journal",
                "telegraph", "guardian", "herald", "tribune", "gazette", "broadcaster", "broadcasting",
                "channel", "network", "daily", "weekly", "pravda", "independent", "observer", "wire"}
_FORCE_WORDS = {"forces", "force", "army", "brigade", "brigades", "corps", "regiment", "battalion",
                "division", "navy", "guard", "command", "fleet", "militia", "legion", "unit"}
_GOV_WORDS = {"ministry", "parliament", "government", "council", "department", "office", "service",
              "agency", "committee", "senate", "congress", "cabinet", "presidency", "administration",
              "assembly", "court", "police", "directorate", "bureau", "commission", "authority"}
_GROUP_WORDS = {"group", "front", "movement", "jihad", "mujahideen", "liberation", "resistance",
                "state", "brotherhood", "organisation", "organization", "party"}
_WATER_WORDS = {"sea", "gulf", "strait", "ocean", "river", "lake", "bay", "channel", "straits"}
_MODIFIER_OK_HEADS = {"spokesperson", "spokesman", "spokeswoman", "official", "officials", "command",
                      "commander", "commanders", "chief", "leadership", "source", "sources",
                      "statement", "unit", "units"}


@dataclass(frozen=True, slots=True)
class EntityIndex:
    """The entities of a document and which entity each token belongs to."""

    entities: tuple[Entity, ...]
    by_token: Mapping[int, str]           # token index -> entity IRI
    entries: Mapping[str, CatalogEntry]   # entity IRI -> catalogue entry (catalogued only)

    def entity(self, iri: str | None) -> Entity | None:
        if iri is None:
            return None
        for e in self.entities:
            if e.id == iri:
                return e
        return None

    def at(self, token_index: int) -> str | None:
        return self.by_token.get(token_index)

    def in_span(self, start: int, end: int) -> list[str]:
        """Entity IRIs with a token in [start, end), in text order, without repeats."""
        seen: dict[str, None] = {}
        for i in range(start, end):
            iri = self.by_token.get(i)
            if iri:
                seen.setdefault(iri, None)
        return list(seen)


@dataclass
class _Draft:
    iri: str
    label: str
    type: str
    subtype: str | None
    entry: CatalogEntry | None
    mentions: list[tuple[int, int, int, int]]  # (char start, char end, token start, token end)


def _is_title_case_line(sent: Span) -> bool:
    words = [t for t in sent if t.is_alpha and len(t) > 3]
    return len(words) >= 3 and sum(t.text[0].isupper() for t in words) / len(words) > 0.8


def _capitals(catalog: Catalog) -> dict[str, CatalogEntry]:
    return {e.capital: e for e in catalog.by_type("Actor") if e.subtype == "State" and e.capital}


def _is_governmental_use(span: Span) -> bool:
    """Is a capital used for its government ("Kyiv denied") rather than as a place ("in Kyiv")?"""
    root = span.root
    sent = span.sent
    # Dateline: "KYIV >>", "New Delhi:" at the start of a paragraph.
    if span.start == sent.start and (span.end < len(span.doc)) and (
            span.doc[span.end].text in {">>", ":", "—", "-", "–", "(", ","} or span.text.isupper()):
        return False
    if root.dep_ in {"nsubj", "nsubjpass", "dobj", "iobj"}:
        return True
    if root.dep_ == "pobj" and root.head.lower_ in {"by", "against", "with", "between"}:
        return True
    if root.dep_ == "poss":
        # "Kyiv's forces" acts; "Kyiv's military authorities" / "Kyiv's streets" are the city.
        return root.head.lemma_ in {"force", "army", "government", "leadership", "position", "stance",
                                    "decision", "strategy", "claim", "ally", "allies", "partner",
                                    "refusal", "demand", "offensive", "counteroffensive"}
    if root.dep_ == "conj":
        return _is_governmental_use(span.doc[root.head.i: root.head.i + 1])
    if root.dep_ == "pobj" and root.head.lower_ in _LOCATIVE_PREPS:
        return False
    return False


def _followed_by_region_word(span: Span) -> bool:
    """"Kursk region", "the Kursk and Belgorod regions", "Kursk, Belgorod and Bryansk regions"."""
    doc = span.doc
    i = span.end
    while i < len(doc):
        token = doc[i]
        if token.lower_ in _REGION_WORDS:
            return True
        if token.text in {",", "and", "&"} or token.ent_type_ in {"KG_PLACE", "GPE", "LOC"}:
            i += 1
            continue
        return False
    return False


def _preceded_by_region_of(span: Span) -> bool:
    doc = span.doc
    return span.start >= 2 and doc[span.start - 1].lower_ == "of" and doc[span.start - 2].lower_ in _REGION_WORDS


def _org_subtype(span: Span) -> str | None:
    words = {t.lower_ for t in span}
    last = span[-1].lower_
    if words & _MEDIA_WORDS and not words & _FORCE_WORDS:
        return "MediaOutlet"
    if last in _FORCE_WORDS or words & {"forces", "army", "navy", "brigade", "brigades", "corps"}:
        return "ArmedForce"
    if words & _GOV_WORDS:
        return "GovernmentBody"
    if words & _GROUP_WORDS or words & {"islamic", "al", "hezbollah", "hamas"}:
        return "NonStateArmedGroup"
    return None


def _place_subtype(span: Span) -> str:
    words = {t.lower_ for t in span}
    if words & _WATER_WORDS:
        return "WaterBody"
    if words & _REGION_WORDS:
        return "Region"
    if span.label_ == "FAC" or words & {"base", "airport", "airfield", "port", "plant", "bridge", "station"}:
        return "Facility"
    if span.label_ == "LOC":
        return "Region"
    return "City"


_SHIP_PREFIXES = {"mv", "m/v", "msc", "uss", "hms", "ins", "mt", "m/t", "ss", "hmcs", "hmas", "fs", "ns", "rfs"}
_SHIP_NOUNS = {"ship", "vessel", "tanker", "carrier", "freighter", "destroyer", "frigate", "cruiser", "corvette",
               "submarine", "boat", "ferry", "warship", "bulker", "trawler"}
_TITLES = {"brig", "gen", "col", "lt", "maj", "capt", "sgt", "adm", "cmdr", "mr", "mrs", "ms", "dr", "gov",
           "sen", "rep", "pres", "prof", "brig.", "gen.", "col.", "lt.", "maj.", "capt.", "sgt.", "adm.", "mr.",
           "mrs.", "ms.", "dr.", "gov.", "sen.", "rep.", "prof.", "general", "colonel", "major", "captain"}


def _is_ship_name(span: Span) -> bool:
    """Named vessels: "MSC Sarah V", "USS Carney", "the container ship Galaxy Leader"."""
    if span.label_ not in {"PERSON", "ORG", "PRODUCT", "FAC", "WORK_OF_ART", "GPE"}:
        return False
    if span[0].lower_ in _SHIP_PREFIXES and len(span) > 1:
        return True
    before = span.doc[span.start - 1] if span.start else None
    return before is not None and before.lower_ in _SHIP_NOUNS and span.label_ in {"PERSON", "PRODUCT", "WORK_OF_ART"}


def _without_titles(span: Span) -> Span | None:
    """"Brig. Gen. Yahya Saree" -> "Yahya Saree"; a title alone is no name."""
    start = span.start
    while start < span.end and (span.doc[start].lower_ in _TITLES or span.doc[start].text == "."):
        start += 1
    return span.doc[start:span.end] if start < span.end else None


def _clean_label(span: Span) -> str:
    """A label for an uncatalogued name; "KYIV"-style capitals become "Kyiv" so that one IRI
    (made from the label) never carries two labels that differ only in case."""
    text = span.text.strip()
    if text.isupper() and len(text) > 4:
        text = text.title()
    text = re.sub(r"^(the|The)\s+", "", text)
    text = re.sub(r"['\u2019]s$", "", text)
    return " ".join(text.split())


def _is_modifier_phrase(span: Span) -> bool:
    """A demonym phrase that modifies a following noun: "Ukrainian military installations"."""
    last = span[-1]
    head = last.head
    return (last.dep_ in {"amod", "compound", "nmod"} and head.i >= span.end and head.pos_ in {"NOUN", "PROPN"}
            and head.lower_ not in _MODIFIER_OK_HEADS and head.ent_type_ == "")


def find_entities(doc: Doc, catalog: Catalog) -> EntityIndex:
    """Every entity of the document, one per real-world thing, with all its mentions."""
    capitals = _capitals(catalog)
    demonyms = {fold(d) for e in catalog.by_type("Actor") for d in e.demonyms}
    drafts: dict[str, _Draft] = {}
    order: list[str] = []

    def add(iri: str, label: str, type_: str, subtype: str | None, entry: CatalogEntry | None,
            span: Span | tuple[int, int]) -> None:
        if isinstance(span, tuple):
            tstart, tend = span
            sp = doc[tstart:tend]
        else:
            sp = span
        if len(sp) > 1 and sp[0].lower_ == "the" and not label.lower().startswith("the "):
            sp = sp[1:]  # "the Netherlands parliament": the article is not part of the name
        if iri not in drafts:
            drafts[iri] = _Draft(iri, label, type_, subtype, entry, [])
            order.append(iri)
        drafts[iri].mentions.append((sp.start_char, sp.end_char, sp.start, sp.end))

    def add_entry(entry: CatalogEntry, span: Span) -> None:
        add(entity_iri(entry.type, entry.key), entry.label, entry.type, entry.subtype, entry, span)

    title_case = {s.start for s in doc.sents if _is_title_case_line(s)}
    for span in doc.ents:
        label = span.label_
        if span.ent_id_ and label.startswith("KG_"):
            entry = catalog.get(span.ent_id_)
            if entry is None:
                continue
            if entry.key in capitals and _is_governmental_use(span):
                entry = capitals[entry.key]
            elif entry.region and (_followed_by_region_word(span) or _preceded_by_region_of(span)):
                entry = catalog.get(entry.region) or entry
            if entry.type == "Actor" and entry.subtype in {"ArmedForce", "State"} and len(span) > 1 \
                    and fold(span[0].text) in demonyms and _is_modifier_phrase(span):
                continue  # "Ukrainian military installations": an adjective phrase, not the army
            add_entry(entry, span)
            continue
        if span.sent.start in title_case:
            continue  # the small model guesses wildly on Title Case headlines
        text = _clean_label(span)
        if not text or not any(c.isalpha() for c in text) or fold(text) in demonyms:
            continue  # "Ukrainian" mislabelled as a place is an adjective, not an entity
        if _is_ship_name(span):
            name = text.rstrip(".")
            add(entity_iri("WeaponSystem", slug(name)), name, "WeaponSystem", "Ship", None, span)
        elif label == "PERSON":
            span = _without_titles(span)
            if span is None or not all(t.text[:1].isupper() for t in span if t.is_alpha):
                continue  # "siren sounded": not a name
            text = _clean_label(span)
            add(entity_iri("Actor", slug(text)), text, "Actor", "Person", None, span)
        elif label == "ORG":
            subtype = _org_subtype(span)
            if subtype:
                add(entity_iri("Actor", slug(text)), text, "Actor", subtype, None, span)
        elif label in {"GPE", "LOC", "FAC"}:
            if span.text.lower() in {"west", "east", "north", "south"}:
                continue
            subtype = _place_subtype(span)
            if subtype == "City" and _followed_by_region_word(span):
                subtype = "Region"
            add(entity_iri("Place", slug(text)), text, "Place", subtype, None, span)

    _add_named_facilities(doc, drafts, add)
    _add_defined_acronyms(doc, drafts, order, add)
    _add_surnames(doc, drafts, add)
    _add_short_references(doc, catalog, drafts, order, add)
    return _finish(doc, drafts, order)


_FACILITY_HEADS = {"base", "airbase", "airport", "airfield", "plant", "refinery", "dam", "bridge", "port",
                   "depot", "terminal", "station", "complex"}


def _add_named_facilities(doc: Doc, drafts: dict[str, _Draft], add) -> None:
    """Capitalised names ending in a facility word: "Osman Digna Air Base", "Kakhovka Dam"."""
    covered = {i for d in drafts.values() for (_, _, s, e) in d.mentions for i in range(s, e)}
    for token in doc:
        if token.lower_ not in _FACILITY_HEADS or not token.text[:1].isupper() or token.i in covered:
            continue
        start = token.i
        while start > 0 and doc[start - 1].text[:1].isupper() and doc[start - 1].is_alpha \
                and doc[start - 1].i not in covered and not doc[start - 1].is_sent_start:
            start -= 1
        if token.i - start >= 1:
            span = doc[start: token.i + 1]
            name = span.text
            add(entity_iri("Place", slug(name)), name, "Place", "Facility", None, span)
            covered.update(range(start, token.i + 1))


def _add_defined_acronyms(doc: Doc, drafts: dict[str, _Draft], order: list[str], add) -> None:
    """"Rapid Support Forces (RSF)": later "RSF" tokens are the same entity."""
    defined: dict[str, _Draft] = {}
    for draft in list(drafts.values()):
        for (_, _, _, tend) in list(draft.mentions):
            if tend + 2 < len(doc) and doc[tend].text == "(" and doc[tend + 2].text == ")":
                acronym = doc[tend + 1].text
                if acronym.isupper() and 2 <= len(acronym) <= 8:
                    defined.setdefault(acronym, draft)
    if not defined:
        return
    covered = {i for d in drafts.values() for (_, _, s, e) in d.mentions for i in range(s, e)}
    for token in doc:
        draft = defined.get(token.text)
        if draft and token.i not in covered:
            add(draft.iri, draft.label, draft.type, draft.subtype, draft.entry, (token.i, token.i + 1))


def _add_surnames(doc: Doc, drafts: dict[str, _Draft], add) -> None:
    """A person named in full is the same person when only the surname is used later."""
    people = [d for d in drafts.values() if d.subtype == "Person" and len(d.label.split()) >= 2]
    surnames = {fold(d.label.split()[-1]): d for d in people}
    for draft in [d for d in drafts.values() if d.subtype == "Person" and len(d.label.split()) == 1]:
        full = surnames.get(fold(draft.label))
        if full and full is not draft:
            full.mentions.extend(draft.mentions)
            draft.mentions.clear()
    covered = {i for d in drafts.values() for (_, _, s, e) in d.mentions for i in range(s, e)}
    for token in doc:
        if token.i in covered or not token.text[:1].isupper() or token.ent_type_ not in {"", "PERSON", "ORG", "NORP"}:
            continue
        full = surnames.get(fold(token.text))
        if full and token.i > min(m[2] for m in full.mentions):
            add(full.iri, full.label, full.type, full.subtype, full.entry, (token.i, token.i + 1))


def _short_reference_matches(constraint: dict, draft: _Draft) -> bool:
    entry = draft.entry
    if "key_suffix" in constraint:
        return bool(entry and entry.key.endswith("/" + constraint["key_suffix"]))
    if "kind" in constraint:
        return bool(entry and entry.kind == constraint["kind"])
    if "subtype" in constraint:
        return draft.subtype == constraint["subtype"]
    return False


def _add_short_references(doc: Doc, catalog: Catalog, drafts: dict[str, _Draft], order: list[str], add) -> None:
    """"the ministry", "the alliance", "the air force": the nearest earlier entity of that kind."""
    references: dict[str, dict] = catalog.lexicon.get("short_references", {})
    by_first_word: dict[str, list[tuple[tuple[str, ...], dict]]] = {}
    for words, constraint in sorted(((tuple(p.split()), c) for p, c in references.items()), key=lambda pc: -len(pc[0])):
        by_first_word.setdefault(words[0], []).append((words, constraint))
    covered = {i for d in drafts.values() for (_, _, s, e) in d.mentions for i in range(s, e)}
    lowered = [t.lower_ for t in doc]
    for token in doc:
        if lowered[token.i] != "the" or token.i + 1 in covered or token.i + 1 >= len(doc):
            continue
        for words, constraint in by_first_word.get(lowered[token.i + 1], ()):
            end = token.i + 1 + len(words)
            if end > len(doc) or tuple(lowered[token.i + 1:end]) != words:
                continue
            if end < len(doc) and doc[end].pos_ in {"NOUN", "PROPN"} and doc[end].dep_ != "appos":
                break  # "the ministry building" is not the ministry
            best, best_start = None, -1
            for draft in drafts.values():
                starts = [m[2] for m in draft.mentions if m[2] < token.i]
                if starts and max(starts) > best_start and _short_reference_matches(constraint, draft):
                    best, best_start = draft, max(starts)
            if best:
                add(best.iri, best.label, best.type, best.subtype, best.entry, (token.i + 1, end))
            break


def _finish(doc: Doc, drafts: dict[str, _Draft], order: list[str]) -> EntityIndex:
    entities = []
    by_token: dict[int, str] = {}
    entries: dict[str, CatalogEntry] = {}
    text = doc.text  # Doc.text joins every token again on each access
    for iri in order:
        d = drafts[iri]
        if not d.mentions:
            continue
        unique = sorted(set(d.mentions))
        mentions = tuple(Mention(text[s:e], s, e) for (s, e, _, _) in unique)
        for (_, _, ts, te) in unique:
            for i in range(ts, te):
                by_token.setdefault(i, iri)
        entry = d.entry
        if entry:
            entries[iri] = entry
        label = d.label
        if entry is None and d.subtype == "Person":
            label = max((m.text for m in mentions), key=len)
        entities.append(Entity(
            id=iri, label=label, type=d.type, subtype=d.subtype, mentions=mentions,
            wikidata=entry.wikidata if entry else None, geonames=entry.geonames if entry else None,
            aliases=tuple(a for a in (entry.aliases if entry else ()) if a != label)[:12]))
    return EntityIndex(entities=tuple(entities), by_token=MappingProxyType(by_token),
                       entries=MappingProxyType(entries))
