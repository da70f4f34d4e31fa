"""Events from trigger words and the dependency parse: type, agent, target, weapons, places,
count and time. Negated and hypothetical events ("denied launching", "threatened to strike",
"may have been equipped") are not reported as facts.

An event reported in several sentences (headline, lead, a later detail) is one event: events of
the same type whose arguments do not conflict are merged, keeping every sentence as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from spacy.tokens import Doc, Span, Token

from kg.catalog import Catalog, fold
from kg.extract.entities import EntityIndex
from kg.extract.quantities import quantity_of
from kg.extract.time import time_in
from kg.model import Event, Quantity, TimeExpression, sentence_mention
from kg.rdf import entity_iri

_MODALS = {"may", "might", "could", "would", "should", "must", "can"}
_LOCATIVE = {"in", "over", "near", "at", "on", "across", "around", "into", "inside", "outside", "off",
             "above", "along", "toward", "towards", "within", "throughout", "through"}
_TARGET_PREPS = {"on", "against", "at", "toward", "towards"}
_SUBORDINATE = {"relcl", "acl", "advcl", "ccomp", "xcomp", "parataxis", "conj"}


@dataclass(frozen=True, slots=True)
class TriggerLexicon:
    """Trigger lemmas by event type, read from the catalogue lexicon."""

    verbs: dict[str, str]                    # "intercept" -> "Interception"
    phrasal: dict[tuple[str, str], str]      # ("shoot", "down") -> "Interception"
    nouns: dict[str, str]
    non_factual: frozenset[str]
    munitions: frozenset[str]
    people: frozenset[str]
    lexicon: dict = field(default_factory=dict)

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> TriggerLexicon:
        verbs: dict[str, str] = {}
        phrasal: dict[tuple[str, str], str] = {}
        nouns: dict[str, str] = {}
        for type_, words in catalog.lexicon.get("event_triggers", {}).items():
            for verb in words.get("verbs", []):
                parts = verb.split()
                if len(parts) == 2:
                    phrasal.setdefault((parts[0], parts[1]), type_)
                else:
                    verbs.setdefault(verb, type_)
            for noun in words.get("nouns", []):
                nouns.setdefault(noun, type_)
        lex = catalog.lexicon
        return cls(verbs=verbs, phrasal=phrasal, nouns=nouns,
                   non_factual=frozenset(lex.get("non_factual_governors", [])),
                   munitions=frozenset(lex.get("munition_nouns", [])),
                   people=frozenset(lex.get("people_nouns", [])), lexicon=lex)


def _particle(token: Token) -> str | None:
    for child in token.children:
        if child.dep_ == "prt":
            return child.lower_
    return None


def trigger_type(token: Token, lex: TriggerLexicon) -> str | None:
    """The event type a verb evokes here, or None."""
    if token.pos_ not in {"VERB", "AUX"} and not (token.pos_ == "ADJ" and token.tag_ == "VBN"):
        if token.tag_ not in {"VBN", "VBD", "VBG"}:
            return None
    lemma = token.lemma_.lower()
    if lemma in lex.lexicon.get("munition_subject_verbs", []):
        # "Five missiles landed near the vessel": munitions arriving are an attack.
        subject = next((c for c in token.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
        if subject is not None and subject.lemma_.lower() in lex.munitions:
            return "Attack"
    particle = _particle(token)
    if particle and (lemma, particle) in lex.phrasal:
        return lex.phrasal[(lemma, particle)]
    if lemma == "shoot" and token.i + 1 < len(token.doc) and token.doc[token.i + 1].lower_ == "down":
        return "Interception"
    type_ = lex.verbs.get(lemma)
    if type_ is None:
        return None
    obj = _object(token)
    if lemma in {"destroy", "down", "neutralize", "neutralise"}:
        # Downing drones or missiles in the air is an interception; destroying a depot is an attack.
        return "Interception" if obj is not None and obj.lemma_.lower() in lex.munitions else (
            "Attack" if lemma == "destroy" else type_)
    if lemma in {"launch", "fire"}:
        sent = token.sent.text.lower()
        return "Launch" if " test" in sent or "show of force" in sent else "Attack"
    if lemma in {"send", "provide", "supply", "deliver", "transfer", "receive", "ship", "commit",
                 "contribute", "approve"}:
        # Aid needs a military object: "send troops" is a deployment, "provide details" is nothing.
        return _aid_or_deployment(token, obj, lex)
    if lemma == "lose":
        return "Casualties" if obj is not None and obj.lemma_.lower() in lex.people else None
    if lemma in {"move", "position"} and (obj is None or obj.lemma_.lower() not in
                                          {"troop", "force", "system", "battery", "unit", "soldier"}):
        return None
    if lemma == "die" and not any(c.like_num or c.dep_ == "nummod" for c in token.subtree):
        return None
    return type_


def _aid_or_deployment(token: Token, obj: Token | None, lex: TriggerLexicon) -> str | None:
    military = {"system", "weapon", "weapons", "missile", "drone", "jet", "aircraft", "fighter", "tank",
                "ammunition", "munition", "shell", "aid", "assistance", "equipment", "battery",
                "radar", "technology", "arm", "arms", "package", "vehicle", "launcher", "interceptor"}
    if obj is None:
        return "MilitaryAid" if token.lemma_ in {"commit", "contribute", "deliver"} and any(
            t.lemma_.lower() in military for t in token.subtree) else None
    words = {t.lemma_.lower() for t in obj.subtree}
    for child in token.children:  # "supplying Russia with arms"
        if child.dep_ == "prep" and child.lower_ == "with":
            words |= {t.lemma_.lower() for t in child.subtree}
    if token.lemma_ == "send" and words & {"troop", "soldier", "force", "unit"}:
        return "Deployment"
    if words & military or words & lex.munitions or obj.ent_type_ == "KG_WEAPON":
        return "MilitaryAid"
    return None


def _object(token: Token) -> Token | None:
    for child in token.children:
        if child.dep_ in {"dobj", "obj"}:
            return child
    for child in token.children:
        if child.dep_ == "nsubjpass":
            return child
    for child in token.children:
        if child.dep_ == "xcomp":
            for grandchild in child.children:
                if grandchild.dep_ == "dobj":
                    return grandchild
    return None


def is_factual(token: Token, lex: TriggerLexicon, type_: str) -> bool:
    """False for negated, modal or hypothetical uses ("denied launching", "may have struck")."""
    # A pledge or plan to deliver is itself the aid event; a plan to strike is not a strike.
    allowed = {"continue", "begin", "start"}
    if type_ in {"MilitaryAid", "Deployment"}:
        allowed |= {"plan", "pledge", "promise", "commit", "agree", "announce", "intend", "decide", "approve"}
    for child in token.children:
        if child.dep_ == "neg" or (child.dep_ == "aux" and child.lower_ in _MODALS):
            return False
    if token.dep_ == "amod":
        return True
    current, hops = token, 0
    while current.dep_ in {"xcomp", "ccomp", "advcl", "pcomp", "acl", "conj", "relcl"} and hops < 3:
        head = current.head
        if current.dep_ == "conj":
            current, hops = head, hops + 1
            continue
        lemma = head.lemma_.lower()
        if lemma in lex.non_factual and lemma not in allowed:
            return False
        if any(c.dep_ == "neg" for c in head.children) and current.dep_ in {"xcomp", "ccomp"}:
            return False
        if head.pos_ == "NOUN" and head.lemma_.lower() in {"threat", "plan", "attempt", "intention", "possibility"} \
                and lemma not in allowed:
            return False
        current, hops = head, hops + 1
    return True


def _clause_tokens(token: Token) -> list[Token]:
    """The trigger's own clause: its subtree minus subordinate clauses headed by other verbs."""
    out = []
    stack = [token]
    while stack:
        t = stack.pop()
        out.append(t)
        for child in t.children:
            if child.dep_ in _SUBORDINATE and child.pos_ in {"VERB", "AUX"} and child.i != token.i:
                if child.dep_ == "relcl":
                    out.extend([child] + [c for c in child.children if c.dep_ in {"nsubj"}])
                continue
            stack.append(child)
    return sorted(out, key=lambda t: t.i)


def _entity_of_phrase(token: Token, entities: EntityIndex) -> str | None:
    """The entity named by a noun phrase headed by ``token`` (the head's own entity first)."""
    iri = entities.at(token.i)
    if iri:
        return iri
    for t in token.subtree:
        if t.dep_ in {"compound", "poss", "amod", "nmod", "pobj", "appos"} or t.i == token.i:
            iri = entities.at(t.i)
            if iri:
                return iri
    return None


@lru_cache(maxsize=4)
def _demonym_states(catalog: Catalog) -> dict[str, str]:
    table = {}
    for entry in catalog.by_type("Actor"):
        if entry.subtype == "State":
            for d in entry.demonyms:
                table.setdefault(fold(d), entity_iri("Actor", entry.key))
    return table


def _owner_of_munitions(noun: Token, entities: EntityIndex, demonyms: dict[str, str],
                        known: set[str]) -> str | None:
    """Whose drones: "55 Ukrainian drones", "drones that Russia launched", "Russia-launched drones"."""
    for child in noun.children:
        if child.dep_ in {"amod", "compound", "nmod", "poss"}:
            iri = entities.at(child.i)
            if iri and entities.entity(iri) and entities.entity(iri).type == "Actor":
                return iri
            words = child.text.replace("\u2013", "-").split("-")
            for w in words:
                state = demonyms.get(fold(w))
                if state:
                    return state
            for grandchild in child.children:
                iri = entities.at(grandchild.i)
                if iri and entities.entity(iri) and entities.entity(iri).type == "Actor":
                    return iri
        if child.dep_ in {"relcl", "acl"}:
            for grandchild in child.children:
                if grandchild.dep_ in {"nsubj", "agent"}:
                    iri = _entity_of_phrase(grandchild, entities) if grandchild.dep_ == "nsubj" else \
                        next((entities.at(t.i) for t in grandchild.subtree if entities.at(t.i)), None)
                    if iri:
                        return iri
    return None


def _agent(token: Token, entities: EntityIndex) -> str | None:
    for child in token.children:
        if child.dep_ == "nsubj":
            iri = _entity_of_phrase(child, entities)
            if iri and entities.entity(iri).type == "Actor":
                return iri
            # "A drone attack launched by the RSF struck ...": the subject's own agent.
            for t in child.subtree:
                if t.dep_ == "agent" or (t.dep_ == "prep" and t.lower_ == "by"):
                    for p in t.subtree:
                        iri = entities.at(p.i)
                        if iri and entities.entity(iri).type == "Actor":
                            return iri
        if child.dep_ == "agent":
            for t in child.subtree:
                iri = entities.at(t.i)
                if iri and entities.entity(iri).type == "Actor":
                    return iri
    if token.dep_ in {"acl", "relcl", "amod"} and token.head.pos_ in {"NOUN", "PROPN"}:
        for child in token.children:
            if child.dep_ == "agent":
                for t in child.subtree:
                    iri = entities.at(t.i)
                    if iri:
                        return iri
    if token.dep_ == "conj":
        return _agent(token.head, entities)
    # "the United States announced plans to deliver ...": the planner delivers.
    head = token.head
    if token.dep_ in {"xcomp", "acl", "advcl"} and head.i != token.i:
        if head.pos_ in {"NOUN"} and head.dep_ in {"dobj", "pobj"}:
            head = head.head
        if head.pos_ in {"VERB", "AUX"}:
            return _agent(head, entities)
    return None


def _collect(tokens: list[Token], entities: EntityIndex, type_: str) -> list[str]:
    seen: dict[str, None] = {}
    for t in tokens:
        iri = entities.at(t.i)
        if iri and entities.entity(iri).type == type_:
            seen.setdefault(iri, None)
    return list(seen)


def _places(tokens: list[Token], entities: EntityIndex) -> list[str]:
    """Places, and states named as places ("in Ukraine", "over Russian territory")."""
    seen: dict[str, None] = {}
    for t in tokens:
        iri = entities.at(t.i)
        if not iri:
            continue
        entity = entities.entity(iri)
        if entity.type == "Place":
            seen.setdefault(iri, None)
        elif entity.subtype == "State":
            head = t.head
            while head.dep_ in {"compound", "conj", "amod", "poss"} and head.head.i != head.i:
                head = head.head
            if t.dep_ == "pobj" and t.head.lower_ in _LOCATIVE or (head.dep_ == "pobj" and head.head.lower_ in _LOCATIVE
                                                                  and t.dep_ in {"compound", "poss", "amod"}):
                seen.setdefault(iri, None)
    return list(seen)


def _counted_nouns(token: Token, type_: str, lex: TriggerLexicon) -> list[Token]:
    """Nouns an event's count may be attached to: its object and subject (with their conjuncts),
    "a total of four sailors", and the subject of a raising verb ("people are estimated to have died")."""
    nouns = lex.people if type_ == "Casualties" else lex.munitions
    candidates: list[Token] = []
    for child in token.children:
        if child.dep_ in {"dobj", "nsubj", "nsubjpass", "attr", "obj"}:
            candidates.append(child)
        if child.dep_ == "prep" and child.lower_ not in {"including", "of"}:
            candidates.extend(c for c in child.children if c.dep_ == "pobj")
        if child.dep_ == "xcomp":
            candidates.extend(c for c in child.children if c.dep_ == "dobj")
    if token.dep_ in {"acl", "amod", "relcl"}:
        candidates.append(token.head)
    if token.dep_ == "xcomp":
        candidates.extend(c for c in token.head.children if c.dep_ in {"nsubj", "nsubjpass"})
    out: list[Token] = []
    for noun in candidates:
        for c in (noun, *noun.conjuncts):
            out.append(c)
            # "a total of four sailors", "dozens of drones"
            out.extend(p for prep in c.children if prep.dep_ == "prep" and prep.lower_ == "of"
                       for p in prep.children if p.dep_ == "pobj")
    return [n for n in out if n.lemma_.lower() in nouns or n.lower_ in nouns or n.ent_type_ == "KG_WEAPON"
            or n.like_num]


def _quantity(token: Token, type_: str, lex: TriggerLexicon) -> tuple[Quantity | None, Token | None]:
    """The count of what the event is about, and the noun it counts. Separate counts for several
    kinds and no total ("two missiles and 15 drones") give no single count; "178 drones,
    including 87 Shaheds" gives the total (the "including" part is a subset)."""
    found: list[tuple[Quantity, Token]] = []
    first_noun = None
    for noun in _counted_nouns(token, type_, lex):
        first_noun = first_noun or noun
        if noun.like_num and noun.dep_ in {"dobj", "obj"}:
            from kg.extract.quantities import parse_number
            value = parse_number(noun.text)  # "the Netherlands has pledged 24"
            q = Quantity(value=value, qualifier="exact", text=noun.text) if value is not None else None
        else:
            q = quantity_of(noun, lex.lexicon)
        if q is not None and q.value is not None and all(q.value != f[0].value for f in found):
            found.append((q, noun))
        elif q is not None and q.value is None and not found:
            found.append((q, noun))
    if len([f for f in found if f[0].value is not None]) > 1:
        return None, first_noun
    if found:
        return found[0]
    return None, first_noun


def find_events(doc: Doc, entities: EntityIndex, catalog: Catalog, published: str | None,
                lex: TriggerLexicon | None = None) -> list[Event]:
    """One event per factual trigger, before merging mentions of the same occurrence."""
    lex = lex or TriggerLexicon.from_catalog(catalog)
    demonyms = _demonym_states(catalog)
    events: list[Event] = []
    for sent in doc.sents:
        verbs = {t.i: ty for t in sent if (ty := trigger_type(t, lex)) and is_factual(t, lex, ty)}
        nouns = {t.i: ty for t in sent if t.i not in verbs and (ty := noun_trigger_type(t, lex))
                 and is_factual(t, lex, ty)}
        for i, type_ in {**verbs, **nouns}.items():
            token = doc[i]
            if _is_background(token, verbs):
                continue
            if i in nouns and not _noun_event_is_specific(token, entities):
                continue
            for event in _build_all(token, type_, sent, entities, demonyms, published, lex):
                events.append(event)
    return _merge_within_sentences(events, entities, catalog)


def noun_trigger_type(token: Token, lex: TriggerLexicon) -> str | None:
    """Event nouns: "the ambush", "a drone attack ... on the ship", "the strikes by X"."""
    if token.pos_ != "NOUN":
        return None
    lemma = token.lemma_.lower()
    two = f"{token.doc[token.i - 1].lower_} {token.lower_}" if token.i else ""
    return lex.nouns.get(two) or lex.nouns.get(lemma) or lex.nouns.get(token.lower_)


def _is_background(token: Token, verbs: dict[int, str]) -> bool:
    """A trigger that describes another event's participants is not an event of its own:
    "Russia-launched drones", "the intercepted drones", "15 drones that Russia launched",
    "a drone attack launched by the RSF struck ...", "the attack struck ..."."""
    if token.dep_ in {"amod", "compound"} and token.pos_ != "NOUN":
        return True
    if token.i + 1 < len(token.doc) and token.i > 0 and token.doc[token.i - 1].text in {"-", "–"}:
        return True
    current = token
    for _ in range(3):
        head = current.head
        if head.i == current.i:
            return False
        if head.i in verbs and head.i != token.i and current.dep_ in {
                "nsubj", "nsubjpass", "dobj", "relcl", "acl", "pobj", "prep", "advcl", "xcomp", "conj"}:
            # In a verb trigger's arguments: the verb's event covers it (merged below when the same type).
            return current.dep_ not in {"advcl", "xcomp", "conj"} or token.pos_ == "NOUN"
        if current.dep_ not in {"relcl", "acl", "pobj", "prep", "compound", "nsubj", "dobj", "nsubjpass"}:
            return False
        current = head
    return False


def _noun_event_is_specific(token: Token, entities: EntityIndex) -> bool:
    """A noun names one occurrence when it is definite or counted and has a participant:
    "the jihadist ambush", "an attack Monday on the ship", "a drone attack by the RSF"."""
    if token.tag_ == "NNS" and not any(c.dep_ == "det" for c in token.children):
        return False  # "drone strikes in recent weeks": habitual
    for t in token.subtree:
        if t.i != token.i and entities.at(t.i):
            return True
    return any(c.lower_ in {"jihadist", "militant", "rebel", "terrorist"} for c in token.children)


def _build_all(token: Token, type_: str, sent: Span, entities: EntityIndex, demonyms: dict[str, str],
               published: str | None, lex: TriggerLexicon) -> list[Event]:
    """The event of a trigger, one per agent when agents are coordinated ("Norway and Belgium will
    contribute jets": two donations)."""
    event = _build(token, type_, sent, entities, demonyms, published, lex)
    if event is None or event.agent is None:
        return [event] if event else []
    agents = [event.agent]
    subject = next((c for c in token.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
    if subject is not None:
        for conj in subject.conjuncts:
            iri = _entity_of_phrase(conj, entities)
            if iri and entities.entity(iri).type == "Actor" and iri not in agents:
                agents.append(iri)
    return [event] + [replace(event, agent=a) for a in agents[1:]]


def _build(token: Token, type_: str, sent: Span, entities: EntityIndex, demonyms: dict[str, str],
           published: str | None, lex: TriggerLexicon) -> Event | None:
    clause = _clause_tokens(token)
    agent = _agent(token, entities)
    if agent is None and type_ == "Deployment":
        # "The army and Wagner fighters were deployed in the area": the deployed force.
        subject = next((c for c in token.children if c.dep_ == "nsubjpass"), None)
        iri = _entity_of_phrase(subject, entities) if subject is not None else None
        if iri and entities.entity(iri).type == "Actor":
            agent = iri
    obj = _object(token)
    target = None
    if type_ == "Interception" and obj is not None:
        for noun in (obj, *obj.conjuncts):
            target = target or _owner_of_munitions(noun, entities, demonyms, set())
    elif type_ == "Interception" and token.dep_ in {"amod", "acl"}:
        target = _owner_of_munitions(token.head, entities, demonyms, set())
    elif type_ == "MilitaryAid":
        for child in token.children:
            if child.dep_ in {"dative", "prep"} and child.lower_ in {"to", "for"}:
                for t in child.subtree:
                    iri = entities.at(t.i)
                    if iri and entities.entity(iri).type == "Actor":
                        target = iri
                        break
        if token.lemma_ == "receive":
            # "Ukraine received jets from the Netherlands": the giver is the agent.
            target, agent = agent, None
            for child in token.children:
                if child.dep_ == "prep" and child.lower_ == "from":
                    agent = next((entities.at(t.i) for t in child.subtree if entities.at(t.i)), None)
    elif type_ in {"Attack", "Casualties", "TerritorialChange"}:
        if obj is not None:
            iri = _entity_of_phrase(obj, entities)
            if iri and (type_ != "Attack" or entities.entity(iri).type in {"Actor", "Place", "WeaponSystem"}):
                target = iri
            elif type_ in {"Attack"}:
                target = _owner_of_munitions(obj, entities, demonyms, set()) if obj.lemma_ in lex.people else None
        for child in token.children:
            if target is None and child.dep_ == "prep" and child.lower_ in _TARGET_PREPS:
                for t in child.subtree:
                    iri = entities.at(t.i)
                    if iri and entities.entity(iri).type in {"Actor", "WeaponSystem"}:
                        target = iri
                        break
    if type_ == "Attack" and target is not None and target == agent:
        target = None
    weapons = _collect(clause, entities, "WeaponSystem")
    if type_ == "Attack" and target in weapons:
        weapons.remove(target)
    places = [p for p in _places(clause, entities) if not _is_dateline(p, sent, entities)]
    if not places:
        # The place is often said once for the whole sentence ("explosions in Kyiv ... intercepted").
        places = [p for p in _collect(list(sent), entities, "Place") if not _is_dateline(p, sent, entities)]
    if agent in places:
        places.remove(agent)
    quantity, counted = _quantity(token, type_, lex)
    if _is_headline(sent):
        agent, target, quantity = _headline_arguments(token, type_, sent, entities, demonyms, lex,
                                                      agent, target, quantity)
    if not weapons and counted is not None:
        weapons = _weapon_from_context(counted, sent, entities, lex)
    about_munitions = counted is not None and (counted.lemma_.lower() in lex.munitions
                                                or counted.lemma_.lower() in lex.people)
    if agent is None and target is None and not weapons and quantity is None and not about_munitions:
        return None  # nothing but a verb: too little to be a fact worth storing
    time = time_in(sent, token.i, published)
    sentence = sentence_mention(sent)
    is_anaphoric = agent is None and counted is not None and quantity is None and any(
        c.dep_ == "det" and c.lower_ in {"the", "these", "those"} for c in counted.children)
    return Event(id="", type=type_, sentence=sentence, trigger=token.text, agent=agent, target=target,
                 weapons=tuple(weapons), places=tuple(places), quantity=quantity, time=time,
                 evidence=(sentence,), is_anaphoric=is_anaphoric)


def _weapon_from_context(noun: Token, sent: Span, entities: EntityIndex, lex: TriggerLexicon) -> list[str]:
    """"19 aircraft" after "F-16 fighter jets": the one named system of that kind named so far."""
    subtypes = lex.lexicon.get("generic_weapon_nouns", {}).get(noun.lemma_.lower())
    if not subtypes:
        return []
    named = {e.id for e in entities.entities if e.type == "WeaponSystem" and e.subtype in subtypes
             and any(m.start < sent.end_char for m in e.mentions)}
    return list(named) if len(named) == 1 else []


def _is_dateline(iri: str, sent: Span, entities: EntityIndex) -> bool:
    """"KYIV >>" opening a paragraph is where the report was filed, not where things happened."""
    first = sent[0]
    return entities.at(first.i) == iri and len(sent) > 2 and any(
        t.text in {">>", ":", "(", "—", "-"} for t in sent[1:4]) and first.text.isupper()


def _is_headline(sent: Span) -> bool:
    words = [t for t in sent if t.is_alpha and len(t) > 3]
    return len(words) >= 3 and sum(t.text[0].isupper() for t in words) / len(words) > 0.8 \
        and not sent.text.rstrip().endswith(".")


def _headline_arguments(token: Token, type_: str, sent: Span, entities: EntityIndex, demonyms: dict[str, str],
                        lex: TriggerLexicon, agent, target, quantity):
    """Title Case headlines parse badly: read "Russia Intercepts 55 Ukrainian Drones" left to right."""
    if agent is None:
        for t in reversed(sent[: token.i - sent.start]):
            iri = entities.at(t.i)
            if iri and entities.entity(iri).type == "Actor":
                agent = iri
                break
    after = sent[token.i - sent.start + 1:]
    for i, t in enumerate(after):
        if not t.like_num:
            continue
        window = after[i + 1: i + 4]
        noun = next((w for w in window if w.lower_ in lex.munitions or w.lemma_.lower() in lex.munitions), None)
        if noun is None:
            continue
        if quantity is None:
            from kg.extract.quantities import parse_number
            value = parse_number(t.text)
            quantity = Quantity(value=value, qualifier="exact", text=t.text) if value is not None else None
        if target is None and type_ == "Interception":
            for w in window:
                state = demonyms.get(fold(w.text))
                if state:
                    target = state
        break
    return agent, target, quantity


def _compatible_actor(a: str | None, b: str | None, entities: EntityIndex, catalog: Catalog) -> bool:
    if a is None or b is None or a == b:
        return True
    ea, eb = entities.entries.get(a), entities.entries.get(b)
    if ea and eb:
        return ea.key in catalog.ancestors(eb.key) or eb.key in catalog.ancestors(ea.key)
    return False


def _same_occurrence(a: Event, b: Event, entities: EntityIndex, catalog: Catalog) -> bool:
    """Two reports of one occurrence: same type, no conflicting arguments, and a shared detail."""
    if a.type != b.type or a.sentence.start == b.sentence.start:
        return False
    if a.count is not None and b.count is not None and a.count != b.count:
        return False
    if not _compatible_actor(a.agent, b.agent, entities, catalog):
        return False
    if not _compatible_actor(a.target, b.target, entities, catalog):
        return False
    if a.weapons and b.weapons and not set(a.weapons) & set(b.weapons):
        return False
    shared = (a.count is not None and a.count == b.count) or bool(set(a.weapons) & set(b.weapons)) \
        or (a.agent is not None and a.agent == b.agent and a.target == b.target and a.target is not None)
    return shared


def _merge(a: Event, b: Event, entities: EntityIndex, catalog: Catalog) -> Event:
    def more_specific(x: str | None, y: str | None) -> str | None:
        if x is None or y is None:
            return x or y
        ex, ey = entities.entries.get(x), entities.entries.get(y)
        if ex and ey and ex.key in catalog.ancestors(ey.key):
            return y  # the air defence forces rather than the state
        return x
    return replace(
        a, agent=more_specific(a.agent, b.agent), target=more_specific(a.target, b.target),
        weapons=tuple(dict.fromkeys(a.weapons + b.weapons)), places=tuple(dict.fromkeys(a.places + b.places)),
        quantity=a.quantity if a.quantity and a.quantity.value is not None else (b.quantity or a.quantity),
        time=_better_time(a.time, b.time),
        evidence=tuple(sorted(set(a.evidence + b.evidence), key=lambda m: m.start)))


def _better_time(a: TimeExpression | None, b: TimeExpression | None) -> TimeExpression | None:
    if a is None or (a.value is None and b is not None and b.value is not None):
        return b
    return a


def _merge_within_sentences(events: list[Event], entities: EntityIndex, catalog: Catalog) -> list[Event]:
    """Triggers of one occurrence in one sentence ("committed to supplying", "launched drones ...,
    targeting the base") are one event; different agents or counts stay apart ("Denmark ... 19,
    while the Netherlands has pledged 24")."""
    out: list[Event] = []
    for event in events:
        for i, existing in enumerate(out):
            if (existing.sentence.start == event.sentence.start and existing.type == event.type
                    and _compatible_actor(existing.agent, event.agent, entities, catalog)
                    and (existing.agent is None or event.agent is None or existing.agent == event.agent)
                    and _compatible_actor(existing.target, event.target, entities, catalog)
                    and (existing.count is None or event.count is None or existing.count == event.count)):
                out[i] = _merge(existing, event, entities, catalog)
                break
        else:
            out.append(event)
    return out


def _continues(a: Event, b: Event, entities: EntityIndex, catalog: Catalog) -> bool:
    """A later sentence about the same agent's same kind of act, with nothing that conflicts."""
    if a.type != b.type or a.agent is None or a.agent != b.agent:
        return False
    if a.count is not None and b.count is not None and a.count != b.count:
        return False
    if a.places and b.places and not set(a.places) & set(b.places):
        return False
    return _compatible_actor(a.target, b.target, entities, catalog)


def merge_events(events: list[Event], entities: EntityIndex, catalog: Catalog, article_iri: str,
                 headline_end: int = 0) -> list[Event]:
    """Fold reports of the same occurrence into one event and give every event its IRI.

    A headline summarises the lead: its event joins the first body event of the same type whose
    participants agree, even when the headline rounds or totals the count."""
    ordered = sorted(events, key=lambda e: e.sentence.start)
    headline = [e for e in ordered if e.sentence.end <= headline_end]
    merged: list[Event] = []
    for event in (e for e in ordered if e.sentence.end > headline_end):
        earlier = [i for i, e in enumerate(merged) if e.type == event.type]
        if event.is_anaphoric and earlier:
            # "the drones being intercepted ... over the Kursk and Belgorod regions": the last one told.
            i = earlier[-1]
            merged[i] = _merge(merged[i], event, entities, catalog)
            continue
        for i, existing in enumerate(merged):
            if _same_occurrence(existing, event, entities, catalog) or _continues(existing, event, entities, catalog):
                merged[i] = _merge(existing, event, entities, catalog)
                break
        else:
            merged.append(event)
    for event in headline:
        for i, existing in enumerate(merged):
            if existing.type == event.type and _compatible_actor(existing.agent, event.agent, entities, catalog) \
                    and _compatible_actor(existing.target, event.target, entities, catalog):
                merged[i] = replace(_merge(existing, event, entities, catalog), quantity=existing.quantity
                                    or event.quantity, sentence=event.sentence)
                break
        else:
            merged.append(event)
    merged = _recipients_from_context(sorted(merged, key=lambda e: e.sentence.start))
    return [replace(e, id=f"{article_iri}/event/{n}") for n, e in enumerate(merged, start=1)]


def _recipients_from_context(events: list[Event]) -> list[Event]:
    """Aid with no recipient named goes to the recipient of the article's previous aid event
    ("Ukraine received F-16s ... Denmark has committed to supplying 19 aircraft")."""
    out, recipient = [], None
    for event in events:
        if event.type == "MilitaryAid":
            if event.target is None and recipient is not None and recipient != event.agent:
                event = replace(event, target=recipient)
            recipient = event.target or recipient
        out.append(event)
    return out
