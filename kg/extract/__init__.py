"""Extraction: from a spaCy ``Doc`` of one article to its ``Extraction`` (entities, events,
statements), through small pure functions (entities.py, events.py, statements.py, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from kg.catalog import Catalog, load_catalog
from kg.extract.entities import find_entities
from kg.extract.events import TriggerLexicon, find_events, merge_events
from kg.extract.statements import StanceLexicon, find_statements
from kg.link import link
from kg.model import Article, Entity, Extraction, sentence_mention
from kg.rdf import article_iri


class Extractor:
    """Holds the pipeline and the lexicons so a batch builds them once."""

    def __init__(self, nlp: Language | None = None, catalog: Catalog | None = None):
        from kg.nlp import get_pipeline

        self.catalog = catalog or load_catalog()
        self.nlp = nlp or get_pipeline()
        self.triggers = TriggerLexicon.from_catalog(self.catalog)
        self.stances = StanceLexicon.from_catalog(self.catalog)
        from kg.gazetteer import load_gazetteer

        load_gazetteer()  # built once per process, before the first article rather than during it

    def from_doc(self, article: Article, doc: Doc) -> Extraction:
        art = article_iri(article)
        entities = find_entities(doc, self.catalog)
        events = find_events(doc, entities, self.catalog, article.published, self.triggers)
        headline_end = len(article.title) if article.title and article.text.startswith(article.title) else 0
        events = merge_events(events, entities, self.catalog, art, headline_end)
        statements = find_statements(doc, entities, self.catalog, events, art, self.stances)
        sentences = tuple(sentence_mention(s) for s in doc.sents)
        extraction = Extraction(article=article, entities=entities.entities + self._unmentioned(entities, events),
                                events=tuple(events),
                                statements=tuple(statements), sentences=sentences)
        return link(extraction, self.catalog)

    def _unmentioned(self, entities, events) -> tuple[Entity, ...]:
        """Entities an event refers to without naming them ("55 Ukrainian drones" -> Ukraine):
        described in the graph, with no mention, since a bare adjective is not a name."""
        known = {e.id for e in entities.entities}
        extra: dict[str, Entity] = {}
        for event in events:
            for iri in (event.agent, event.target, *event.weapons, *event.places):
                if iri and iri not in known and iri not in extra:
                    key = iri.split("/id/", 1)[-1].split("/", 1)[-1]
                    entry = self.catalog.get(key)
                    if entry:
                        extra[iri] = Entity(id=iri, label=entry.label, type=entry.type, subtype=entry.subtype)
        return tuple(extra.values())

    def extract(self, article: Article) -> Extraction:
        return self.from_doc(article, self.nlp(article.text))

    def extract_many(self, articles: Iterable[Article], batch_size: int = 16) -> Iterator[Extraction]:
        """Extractions in input order; spaCy batches the model work."""
        stream = ((a.text, a) for a in articles)
        for doc, article in self.nlp.pipe(stream, as_tuples=True, batch_size=batch_size):
            yield self.from_doc(article, doc)


def extract(article: Article) -> Extraction:
    """Extract one article with the process-wide pipeline."""
    return Extractor().extract(article)
