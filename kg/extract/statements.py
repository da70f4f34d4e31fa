"""Statements: who said, claimed, denied, accused, urged or warned what, and how hedged.

A claim stays a claim: the ministry's report of an interception is a Statement with the ministry
as speaker and the interception in ``about``. Rules, per sentence:
- reporting verbs (by stance), reporting phrases ("called for", "expressed concern"), reporting
  nouns with their agent ("calls for a ceasefire" by the subject's actors) and "according to X";
- non-utterances ("has not commented", "declined to confirm", "yet to issue") are not statements;
- speakers: the subject's entity (head, its compounds, possessives), inherited through
  coordination and "with X stating" clauses, pronouns resolved to the previous speaker; unnamed
  sources ("officials", "a military source", "authorities in Kyiv") have no speaker;
- nested attribution: "Kyiv said, citing the air force, Reuters reported" is one statement by
  Kyiv, citing the air force, relayed by Reuters;
- stance: the verb's, or "deny" for a speaker's negated claim ("has never provided"), "accuse"
  for content charging a named adversary, "concern" for alarm ("a devastating crisis");
- hedged: hedging adverbs, verbs and phrases ("reportedly", "claimed", "according to preliminary
  reports", "citing unnamed sources"), kept as cues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from spacy.tokens import Doc, Span, Token

from kg.catalog import Catalog
from kg.extract.entities import EntityIndex
from kg.model import Event, Statement, sentence_mention

_STRENGTH = {"deny": 4, "accuse": 3, "call": 2, "concern": 1, "assert": 0}
_PRONOUNS = {"he", "she", "it", "they", "we", "i"}
_NON_UTTERANCE_HEADS = {"decline", "refuse", "fail", "yet", "omit"}


@dataclass(frozen=True, slots=True)
class StanceLexicon:
    verbs: dict[str, str]
    phrases: dict[tuple[str, str], str]
    nouns: dict[str, str]
    hedge_adverbs: frozenset[str]
    hedge_verbs: frozenset[str]
    hedge_phrases: tuple[str, ...]
    generic: frozenset[str]
    accusation_cues: tuple[str, ...]
    concern_cues: tuple[str, ...]
    hedge_patterns: tuple[re.Pattern, ...] = ()
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> StanceLexicon:
        lex = catalog.lexicon
        verbs = {v: stance for stance, vs in lex.get("reporting_verbs", {}).items() for v in vs}
        phrases = {}
        for stance, items in lex.get("reporting_phrases", {}).items():
            for p in items:
                words = p.split()
                phrases[(words[0], " ".join(words[1:]))] = stance
        nouns = {n: stance for stance, ns in lex.get("reporting_nouns", {}).items() for n in ns}
        hedges = lex.get("hedges", {})
        return cls(verbs=verbs, phrases=phrases, nouns=nouns,
                   hedge_adverbs=frozenset(hedges.get("adverbs", [])),
                   hedge_verbs=frozenset(hedges.get("verbs", [])),
                   hedge_phrases=tuple(hedges.get("phrases", [])),
                   generic=frozenset(lex.get("generic_speakers", [])),
                   accusation_cues=tuple(lex.get("accusation_cues", [])),
                   concern_cues=tuple(lex.get("concern_cues", [])),
                   hedge_patterns=tuple(re.compile(p) for p in hedges.get("patterns", [])), extra=lex)


@dataclass
class _Candidate:
    token: Token
    verb: str
    stance: str
    speakers: list[str | None]
    speaker_text: str | None
    content: Span | None
    sources: list[str] = field(default_factory=list)


def _phrase_stance(token: Token, lex: StanceLexicon) -> tuple[str, str] | None:
    lemma = token.lemma_.lower()
    for (verb, rest), stance in lex.phrases.items():
        if lemma != verb:
            continue
        following = " ".join(t.lower_ for t in token.doc[token.i + 1: token.i + 1 + len(rest.split()) + 1])
        children = " ".join(c.lemma_.lower() for c in token.children)
        if following.startswith(rest) or rest.split()[-1] in children.split():
            return f"{verb} {rest}", stance
    return None


_CONTENT_DEPS = {"ccomp", "xcomp", "parataxis", "dep", "pcomp", "prep", "pobj", "dobj", "nsubj", "nsubjpass",
                 "aux", "advmod"}
_RELAY_VERBS = {"report", "cite", "quote", "publish"}
_MODALS = {"would", "could", "might", "may", "will", "should"}
_HYPOTHETICAL_MARKS = {"before", "until", "if", "unless", "once", "whether"}


def _is_non_utterance(token: Token) -> bool:
    """"has not commented", "declined to confirm", "has yet to issue a statement confirming",
    "before they acknowledge an assault" (a possible, not an actual, utterance)."""
    if any(c.dep_ == "neg" for c in token.children):
        return True
    if token.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in _HYPOTHETICAL_MARKS for c in token.children):
        return True
    if any(c.dep_ == "aux" and c.lower_ in _MODALS for c in token.children):
        return True  # "Tokyo would press Tehran": a prediction inside someone else's report
    current = token
    for _ in range(3):
        head = current.head
        if head.i == current.i:
            break
        if current.dep_ in {"xcomp", "acl", "advcl", "pcomp", "ccomp"} and (
                head.lemma_.lower() in _NON_UTTERANCE_HEADS or any(c.dep_ == "neg" for c in head.children)
                or any(c.lower_ == "yet" for c in head.children)):
            return True
        current = head
    return False


def _speaker_tokens(token: Token) -> Token | None:
    """The phrase naming who speaks: subject, passive agent, "with X stating", conjoined subject."""
    for child in token.children:
        if child.dep_ in {"nsubj"}:
            return child
    for child in token.children:
        if child.dep_ == "agent":
            for p in child.children:
                if p.dep_ == "pobj":
                    return p
    if token.dep_ in {"acl", "advcl"} and token.head.pos_ in {"NOUN", "PROPN"} and token.head.dep_ in {"pobj", "nsubj"}:
        return token.head  # "with the ministry stating ..."
    if token.dep_ in {"conj", "advcl", "xcomp"} and token.head.pos_ in {"VERB", "AUX"}:
        return _speaker_tokens(token.head)
    return None


def _entity_near_head(head: Token, entities: EntityIndex) -> str | None:
    """The entity a speaker phrase names: the head itself, then its compounds and possessives."""
    iri = entities.at(head.i)
    if iri:
        return iri
    modifiers = sorted((c for c in head.children if c.dep_ in {"compound", "poss", "amod", "nmod", "appos"}),
                       key=lambda c: -c.i)
    for child in modifiers:
        for t in sorted(child.subtree, key=lambda t: -t.i):
            if t.dep_ == "pobj" or t.head.dep_ == "prep":
                continue
            iri = entities.at(t.i)
            if iri:
                return iri
    return None


def _is_generic(head: Token, lex: StanceLexicon) -> bool:
    return head.lemma_.lower() in lex.generic or head.lower_ in lex.generic


def _resolve_speakers(head: Token | None, entities: EntityIndex, lex: StanceLexicon,
                      previous: str | None) -> tuple[list[str | None], str | None]:
    if head is None:
        return [None], None
    text = " ".join(t.text for t in head.subtree)
    if head.lower_ in _PRONOUNS:
        verb = head.head
        # "Ukraine's air defense shot down ..., it said": "it" is who the reported clause is about.
        if head.lower_ in {"it", "they"} and verb.i > 0:
            reported = next((c for c in verb.children if c.dep_ == "ccomp" and c.i < verb.i), None)
            if reported is None and verb.dep_ in {"parataxis", "ccomp"} and verb.head.i < verb.i:
                reported = verb.head
            if reported is not None:
                subject = next((c for c in reported.children if c.dep_ == "nsubj"), None)
                iri = _entity_near_head(subject, entities) if subject is not None else None
                if iri and entities.entity(iri).type == "Actor":
                    return [iri], head.text
        return [previous], head.text
    speakers: list[str | None] = []
    for conj in [head, *head.conjuncts]:
        iri = _entity_near_head(conj, entities)
        if iri and entities.entity(iri).type == "Actor":
            speakers.append(iri)
        elif _is_generic(conj, lex) or conj.pos_ == "PROPN":
            speakers.append(None)
    # A subject that is neither an actor nor a person-like noun ("this development") does not speak.
    return list(dict.fromkeys(speakers)), text


def _content(token: Token) -> Span | None:
    """What is reported: the clausal complement, else everything the verb governs to its right
    ("described the situation in Sudan as the world's largest crisis")."""
    for child in token.children:
        if child.dep_ in {"ccomp", "xcomp"}:
            sub = list(child.subtree)
            return token.doc[sub[0].i: sub[-1].i + 1]
    right = [c for c in token.children if c.i > token.i and c.dep_ not in {"punct", "cc", "conj", "advcl"}
             and not (c.dep_ == "prep" and c.lower_ in {"in", "on", "during", "at", "after", "before"})]
    if right:
        return token.doc[right[0].left_edge.i: right[-1].right_edge.i + 1]
    if token.dep_ in {"ccomp", "parataxis"} and token.head.pos_ in {"VERB", "AUX"}:
        head = token.head
        left = [t for t in head.subtree if t.i < token.i and not (token.left_edge.i <= t.i <= token.right_edge.i)]
        if left:
            return token.doc[left[0].i: token.left_edge.i]
    return None


def _find_candidates(sent: Span, entities: EntityIndex, lex: StanceLexicon,
                     previous: str | None) -> list[_Candidate]:
    out: list[_Candidate] = []
    last_speakers: list[str | None] | None = None
    for token in sent:
        lemma = token.lemma_.lower()
        phrase = _phrase_stance(token, lex) if token.pos_ in {"VERB", "NOUN"} else None
        if token.pos_ == "VERB" and (phrase or lemma in lex.verbs):
            verb, stance = phrase if phrase else (lemma, lex.verbs[lemma])
            if _is_non_utterance(token):
                continue
            if token.tag_ == "VBN" and any(c.dep_ == "auxpass" for c in token.children) and not any(
                    c.dep_ == "agent" for c in token.children):
                continue  # "explosions were reported": no one is said to speak
            own_subject = any(c.dep_ in {"nsubj", "agent"} for c in token.children)
            if token.tag_ == "VBG" and not own_subject and last_speakers is not None:
                # "X told reporters ..., denying ...": the participle's speaker is X.
                out.append(_Candidate(token, verb, stance, list(last_speakers), None, _content(token)))
                continue
            head = _speaker_tokens(token)
            if head is None and token.dep_ not in {"parataxis", "ccomp", "advcl", "conj"}:
                continue
            speakers, text = _resolve_speakers(head, entities, lex, previous)
            last_speakers = speakers or last_speakers
            if not speakers:
                continue
            out.append(_Candidate(token, verb, stance, speakers, text, _content(token)))
        elif token.lower_ == "according" and token.i + 1 < len(token.doc) and token.doc[token.i + 1].lower_ == "to":
            objs = [c for c in token.doc[token.i + 1].children if c.dep_ == "pobj"]
            if not objs:
                continue
            obj = objs[0]
            iri = _entity_near_head(obj, entities)
            if iri is None:
                # "according to a report from the ministry": the report's author.
                for t in obj.subtree:
                    if t.dep_ == "pobj" and t.head.lower_ in {"from", "by", "of"}:
                        iri = _entity_near_head(t, entities)
                        if iri:
                            break
            speakers = [iri] if iri and entities.entity(iri).type == "Actor" else [None]
            text = " ".join(t.text for t in obj.subtree)
            out.append(_Candidate(token, "according to", "assert", speakers, text, None))
        elif token.pos_ == "NOUN" and (lemma in lex.nouns or phrase) and token.dep_ not in {"compound"}:
            stance = phrase[1] if phrase else lex.nouns[lemma]
            if stance == "assert":
                continue  # "a statement", "the report": too weak without a verb
            speakers = _noun_speakers(token, entities)
            if not speakers:
                continue
            out.append(_Candidate(token, phrase[0] if phrase else lemma, stance, speakers, None, None))
    return out


def _noun_speakers(token: Token, entities: EntityIndex) -> list[str | None]:
    """Who calls or warns in "with calls for a ceasefire": the noun's own "by/from X", else the
    actors of the main clause's subject ("Diplomatic efforts by the UN and EU ...")."""
    def actors(tokens) -> list[str]:
        found = []
        for t in tokens:
            iri = entities.at(t.i)
            if iri and entities.entity(iri).type == "Actor" and iri not in found:
                found.append(iri)
        return found

    for child in token.children:
        if child.dep_ in {"poss"} or (child.dep_ == "prep" and child.lower_ in {"by", "from"}):
            found = actors(child.subtree)
            if found:
                return found
    root = token.sent.root
    for child in root.children:
        if child.dep_ in {"nsubj", "nsubjpass"}:
            found = actors(child.subtree)
            if found:
                return found
    return []


def _hedges(sent: Span, cand: _Candidate, lex: StanceLexicon) -> list[str]:
    cues = []
    lowered = sent.text.lower().replace("\u2019", "'")
    for t in sent:
        if t.lower_ in lex.hedge_adverbs:
            cues.append(t.lower_)
    if cand.verb in lex.hedge_verbs:
        cues.append(cand.verb)
    for phrase in lex.hedge_phrases:
        if phrase in lowered:
            cues.append(phrase)
    for pattern in lex.hedge_patterns:
        match = pattern.search(lowered)
        if match:
            cues.append(match.group(0))
    return list(dict.fromkeys(cues))


def _nested_in(inner: Token, outer: Token) -> bool:
    """Is ``inner`` within the reported content of ``outer``? Only complement clauses report
    ("said that X had requested"); a relative clause ("a claim that Kyiv denied") or an adverbial
    clause ("urged ..., while the EU called for ...") is a statement of its own."""
    current = inner
    for _ in range(6):
        if current.i == outer.i:
            return True
        participle = current.dep_ == "advcl" and current.tag_ == "VBG"
        if current.dep_ not in _CONTENT_DEPS and not participle:
            return False
        if current.head.i == current.i:
            return False
        current = current.head
    return False


def _parenthetical(a: Token, b: Token) -> bool:
    """"..., Jiji Press reported": one verb is a parenthetical attached to the other."""
    def attached(x: Token, y: Token) -> bool:
        return x.dep_ in {"parataxis", "ccomp"} and x.head.i == y.i

    return attached(a, b) or attached(b, a)


def _stance_from_content(cand: _Candidate, entities: EntityIndex, lex: StanceLexicon,
                         speaker: str | None) -> str:
    if cand.stance != "assert" or cand.content is None:
        return cand.stance
    root = cand.content.root
    subj = next((c for c in root.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
    negated = any(c.dep_ == "neg" for c in root.children) or any(t.lower_ == "never" for t in root.children)
    if negated and subj is not None and (subj.lower_ in {"we", "i"} or entities.at(subj.i) is not None):
        return "deny"
    text = cand.content.text.lower()
    adversaries = [iri for iri in entities.in_span(cand.content.start, cand.content.end)
                   if iri != speaker and entities.entity(iri).type == "Actor"]
    if adversaries and _has_cue(text, lex.accusation_cues):
        return "accuse"
    if _has_cue(text, lex.concern_cues):
        return "concern"
    return cand.stance


def _has_cue(text: str, cues: tuple[str, ...]) -> bool:
    """Whole-word cues: "dire" must not fire inside "direct"."""
    return any(re.search(rf"\b{re.escape(cue)}(?:s|es|d|ed|ly|ing)?\b", text) for cue in cues)


def find_statements(doc: Doc, entities: EntityIndex, catalog: Catalog, events: list[Event],
                    article_iri: str, lex: StanceLexicon | None = None) -> list[Statement]:
    """Every attributed utterance of the document, one per speaker and sentence."""
    lex = lex or StanceLexicon.from_catalog(catalog)
    statements: list[Statement] = []
    previous: str | None = None
    for sent in doc.sents:
        candidates = _find_candidates(sent, entities, lex, previous)
        sentence = sentence_mention(sent)
        about = tuple(e.id for e in events if any(m.start == sent.start_char for m in e.evidence))
        made = _combine(sent, candidates, entities, lex)
        if not made:
            cues = [t.lower_ for t in sent if t.lower_ in {"reportedly", "allegedly", "purportedly"}]
            if cues:
                made = [(None, None, "narration", "assert", cues, None, [], [])]
        for speaker, speaker_text, verb, stance, cues, content, sources, relayed in made:
            statements.append(Statement(
                id="", sentence=sentence, verb=verb, stance=stance, speaker=speaker, speaker_text=speaker_text,
                hedged=bool(cues), hedges=tuple(cues), content=content or sent.text.strip(), about=about,
                sources=tuple(dict.fromkeys(sources + relayed))))
            if speaker:
                previous = speaker
    return [replace(s, id=f"{article_iri}/statement/{n}") for n, s in enumerate(statements, start=1)]


def _combine(sent: Span, candidates: list[_Candidate], entities: EntityIndex, lex: StanceLexicon):
    """Fold one sentence's reporting verbs into statements (nested attribution, same speaker)."""
    if not candidates:
        return []
    # A news outlet "reporting" what someone else said relays it: the original speaker speaks,
    # even when unnamed ("the minister ... denying ..., Anadolu reported").
    media = [c for c in candidates if c.verb in _RELAY_VERBS and c.speakers and all(
        s is not None and entities.entity(s).subtype == "MediaOutlet" for s in c.speakers)]
    relays = [m for m in media if any(c is not m and (_nested_in(c.token, m.token) or _parenthetical(c.token, m.token))
                                      for c in candidates)]
    rest = [c for c in candidates if c not in relays]
    relayed = [s for m in relays for s in m.speakers if s]
    named = [c for c in rest if any(s is not None for s in c.speakers)]
    pool = named or rest
    # Nested or parenthetical reporting verbs: the outer speaker speaks, the inner is cited.
    groups: list[list[_Candidate]] = []
    for cand in sorted(pool, key=lambda c: c.token.i):
        for group in groups:
            outer = group[0]
            # One speaker's coordinated acts of different force are two statements
            # ("denied targeting civilians and accused Kyiv of ...").
            same_speaker = set(outer.speakers) == set(cand.speakers) and (
                "assert" in {c.stance for c in group} | {cand.stance}
                or cand.stance in {c.stance for c in group})
            if same_speaker or _nested_in(cand.token, outer.token) or _nested_in(outer.token, cand.token) \
                    or _parenthetical(cand.token, outer.token):
                group.append(cand)
                break
        else:
            groups.append([cand])
    out = []
    for group in groups:
        # The speaker: the first named, non-media speaker of the group.
        lead = next((c for c in group if any(s for s in c.speakers)), group[0])
        cited = [s for c in group if c is not lead for s in c.speakers if s and s not in lead.speakers]
        # "..., citing the air force, ...": whom the speaker cites is a source, not a speaker.
        cited += [iri for c in group if c.verb in {"cite", "quote"} and c.content is not None
                  for iri in entities.in_span(c.content.start, c.content.end)
                  if entities.entity(iri).type == "Actor" and iri not in lead.speakers]
        stance = max((c.stance for c in group), key=lambda s: _STRENGTH[s])
        content_span = next((c.content for c in group if c.content is not None), None)
        cues: list[str] = []
        for c in group:
            cues.extend(_hedges(sent, c, lex))
        cues = list(dict.fromkeys(cues))
        for speaker in lead.speakers:
            if stance == "assert":
                stance_here = _stance_from_content(replace_content(lead, content_span), entities, lex, speaker)
            else:
                stance_here = stance
            out.append((speaker, lead.speaker_text, lead.verb, stance_here, cues,
                        content_span.text if content_span is not None else None, cited, relayed))
    return out


def replace_content(cand: _Candidate, content: Span | None) -> _Candidate:
    return _Candidate(cand.token, cand.verb, cand.stance, cand.speakers, cand.speaker_text,
                      content if cand.content is None else cand.content, cand.sources)
