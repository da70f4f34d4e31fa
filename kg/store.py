"""The embedded Oxigraph store: one named graph per article, written in one transaction.

Re-building an article replaces its graph (DROP + INSERT in a single SPARQL update, which
Oxigraph applies atomically), so a killed build leaves only whole articles and building the same
input twice leaves the same quads. Entity descriptions go to the shared entity graph.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from kg.errors import StoreError
from kg.model import Article, Extraction
from kg.rdf import ENTITY_GRAPH, ID, ONTOLOGY_IRI, PREFIXES, PROV, SCHEMA, article_iri, to_quads

_GENERATED_BY = ox.NamedNode(PROV + "wasGeneratedBy")
_CONTENT_HASH = ox.NamedNode(ONTOLOGY_IRI + "contentHash")
_SOURCE_PATH = ox.NamedNode(ONTOLOGY_IRI + "sourcePath")
EXPORT_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG, "nq": ox.RdfFormat.N_QUADS,
                  "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}


def _ntriples(quads: list[ox.Quad]) -> str:
    """Our own quads as N-Triples text (escaped by Oxigraph's serializer) for an INSERT DATA block."""
    if not quads:
        return ""
    data = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES)
    return data.decode("utf-8") if isinstance(data, bytes) else data


class GraphStore:
    """A kg store on disk (or in memory when ``path`` is None)."""

    def __init__(self, path: Path | str | None, create: bool = True):
        """Open (or with ``create`` make) the store at ``path``.

        A reader (``create=False``) that finds the store locked by a writer (a running ``kg build`` or
        ``kg serve``) opens it read-only instead: it sees the store as it was when opened, and
        writing through it raises StoreError."""
        self.path = Path(path) if path is not None else None
        self.read_only = False
        self._written_entity_quads: set[ox.Quad] = set()   # entity-graph quads this process wrote
        self._quads_since_flush = 0
        if self.path is not None and not create and not self.path.exists():
            raise StoreError(f"{self.path}: no kg store here. "
                             f"Build one first with: kg build --store {self.path} PATH...")
        try:
            self.store = ox.Store(str(self.path)) if self.path is not None else ox.Store()
        except OSError as err:
            message = str(err)
            if "lock" in message.lower() and not create:
                try:
                    self.store = ox.Store.read_only(str(self.path))
                    self.read_only = True
                    return
                except OSError:
                    pass
            if "lock" in message.lower():
                raise StoreError(f"{self.path}: the store is in use by another kg process ({message}). "
                                 "Wait for it to finish or use another --store") from None
            raise StoreError(f"{self.path}: cannot open the store ({message}). "
                             "Check the path, or move it away and build again") from None

    # -- writing ---------------------------------------------------------------------------------
    def replace_article(self, extraction: Extraction, generated_by: str | None = None) -> int:
        """Write one article's graph (replacing any earlier version) atomically; return its quad count.

        ``generated_by`` is the pipeline fingerprint, recorded so an unchanged article is skipped next time."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only because another kg process holds it; "
                             "stop that process (kg build / kg serve) to write")
        graph_iri = article_iri(extraction.article)
        article_quads, entity_quads = to_quads(extraction)
        # A file edited in place has a new content id: its previous version's graph goes too.
        stale = [g for g in self._graphs_from_path(extraction.article.path) if g != graph_iri]
        node = ox.NamedNode(graph_iri)
        if generated_by:
            article_quads.append(ox.Quad(node, _GENERATED_BY, ox.NamedNode(f"{ID}pipeline/{generated_by}"), node))
        # Articles share entity descriptions ("Russia", "S-400"): most are already written, and
        # re-inserting them made up a quarter of all inserts.
        entity_quads = [q for q in entity_quads if q not in self._written_entity_quads]
        if not stale and not self._has_graph(node):
            # A new article (the usual case): Oxigraph's extend is one transaction, and skips the
            # SPARQL round trip through N-Triples text, which cost more than the rest of writing.
            try:
                self.store.extend(article_quads + entity_quads)
            except OSError as err:
                raise StoreError(f"{self.path}: writing {extraction.article.path or extraction.article.id} "
                                 f"failed ({err}); the store keeps its previous state") from None
            self._written_entity_quads.update(entity_quads)
            self._count_written(len(article_quads) + len(entity_quads))
            return len(article_quads)
        update = ("".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in stale) +
                  f"DROP SILENT GRAPH <{graph_iri}> ;\n"
                  f"INSERT DATA {{ GRAPH <{graph_iri}> {{\n{_ntriples(article_quads)}}}\n"
                  f"GRAPH <{ENTITY_GRAPH}> {{\n{_ntriples(entity_quads)}}} }}")
        try:
            self.store.update(update)
        except (OSError, SyntaxError) as err:
            raise StoreError(f"{self.path}: writing {extraction.article.path or extraction.article.id} failed "
                             f"({err}); the store keeps its previous state") from None
        self._written_entity_quads.update(entity_quads)
        self._count_written(len(article_quads) + len(entity_quads))
        return len(article_quads)

    #: Quads written between flushes of RocksDB's in-memory tables. Without flushing, those tables
    #: (one per index) grow with the build: about 190 KB of resident memory per article, 1.7 GB after
    #: 8,000; flushing every ~200 articles keeps a build's memory flat in corpus size.
    FLUSH_EVERY_QUADS = 50_000

    def _count_written(self, quads: int) -> None:
        self._quads_since_flush += quads
        if self._quads_since_flush >= self.FLUSH_EVERY_QUADS:
            self.flush()

    def _has_graph(self, graph: ox.NamedNode) -> bool:
        return next(self.store.quads_for_pattern(None, None, None, graph), None) is not None

    def _graphs_from_path(self, path: str | None) -> list[str]:
        """Article graphs read from this file before (JSONL lines and stdin have no stable path)."""
        if not path or path == "<stdin>" or path.endswith(tuple(f":{d}" for d in "0123456789")):
            return []
        return [q.graph_name.value for q in self.store.quads_for_pattern(None, _SOURCE_PATH, ox.Literal(path), None)]

    def is_current(self, article: Article, fingerprint: str) -> bool:
        """Does the store hold this article, with the same text, made by the same pipeline?"""
        node = ox.NamedNode(article_iri(article))
        digest = ox.Literal(hashlib.sha256(article.text.encode("utf-8")).hexdigest())
        same_text = next(self.store.quads_for_pattern(node, _CONTENT_HASH, digest, node), None)
        if same_text is None:
            return False
        pipeline = ox.NamedNode(f"{ID}pipeline/{fingerprint}")
        return next(self.store.quads_for_pattern(node, _GENERATED_BY, pipeline, node), None) is not None

    def flush(self) -> None:
        self._quads_since_flush = 0
        if self.path is not None and not self.read_only:
            self.store.flush()

    # -- reading ---------------------------------------------------------------------------------
    def query(self, sparql: str, substitutions: dict | None = None, union: bool = True):
        return self.store.query(sparql, prefixes=PREFIXES, use_default_graph_as_union=union,
                                substitutions=substitutions)

    def article_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if g.value != ENTITY_GRAPH)

    def __len__(self) -> int:
        return len(self.store)

    def stats(self) -> dict:
        """Articles, entities by type, events, statements and quads."""
        def count(sparql: str) -> int:
            rows = list(self.query(sparql))
            return int(rows[0][0].value) if rows else 0

        by_type: Counter[str] = Counter()
        rows = self.query(f"""SELECT ?type (COUNT(DISTINCT ?e) AS ?n) WHERE {{
            ?m <{ONTOLOGY_IRI}refersTo> ?e .
            GRAPH <{ENTITY_GRAPH}> {{ ?e a ?type . VALUES ?type {{ kg:Actor kg:WeaponSystem kg:Place }} }}
        }} GROUP BY ?type""")
        for row in rows:
            by_type[row[0].value.rsplit("#", 1)[-1]] = int(row[1].value)
        return {
            "articles": count(f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?a a <{SCHEMA}NewsArticle> }}"),
            "entities": sum(by_type.values()),
            "entities_by_type": dict(sorted(by_type.items())),
            "events": count("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a kg:Event }"),
            "statements": count("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a kg:Statement }"),
            "quads": len(self.store),
        }

    def export(self, fmt: str) -> bytes:
        """The whole store in ``fmt``; graph-less formats get the union of all graphs."""
        rdf_format = EXPORT_FORMATS[fmt]
        out = io.BytesIO()
        if rdf_format.supports_datasets:
            self.store.dump(out, format=rdf_format, prefixes=_export_prefixes() if fmt == "trig" else None)
        else:
            triples = {q.triple for q in self.store.quads_for_pattern(None, None, None, None)}
            kwargs = {"prefixes": _export_prefixes()} if fmt == "ttl" else {}
            data = ox.serialize(sorted(triples, key=str), format=rdf_format, **kwargs)
            out.write(data if isinstance(data, bytes) else data.encode())
        return out.getvalue()


def _export_prefixes() -> dict[str, str]:
    return {k: v for k, v in PREFIXES.items()}
