"""The store: one graph per article, idempotent rebuilds, atomic writes that survive kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pyoxigraph as ox
import pytest

from kg.build import pipeline_fingerprint
from kg.errors import StoreError
from kg.ingest import iter_articles, make_article
from kg.rdf import ENTITY_GRAPH, ID, PROV, article_iri, to_quads
from kg.store import GraphStore

BODY = "Ukraine said it shot down 12 Russian drones over the Kyiv region. Moscow denied the claim."


def test_store_rebuild_replaces_the_article_graph(tmp_path, extractor):
    store = GraphStore(tmp_path / "s")
    article = make_article(BODY, title="Drones downed", url="https://example.org/a")
    store.replace_article(extractor.extract(article))
    first = set(store.store)
    store.replace_article(extractor.extract(article))
    assert set(store.store) == first
    changed = make_article(BODY.replace("12", "14"), title="Drones downed", url="https://example.org/a")
    store.replace_article(extractor.extract(changed))
    graph = article_iri(article)
    counts = [q.object.value for q in store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
              if q.predicate.value.endswith("#count")]
    assert counts == ["14"]


def test_store_articles_get_their_own_graphs_and_share_entities(tmp_path, extractor):
    store = GraphStore(tmp_path / "s")
    for i in range(2):
        store.replace_article(extractor.extract(make_article(BODY, url=f"https://example.org/{i}")))
    assert len(store.article_graphs()) == 2
    ukraine = [q for q in store.store if q.subject.value.endswith("/actor/ukraine")
               and q.predicate.value.endswith("prefLabel")]
    assert {q.graph_name.value for q in ukraine} == {ENTITY_GRAPH} and len(ukraine) == 1


def test_store_stats_counts(tmp_path, extractor):
    store = GraphStore(tmp_path / "s")
    store.replace_article(extractor.extract(make_article(BODY, url="https://example.org/a")))
    stats = store.stats()
    assert stats["articles"] == 1 and stats["events"] >= 1 and stats["statements"] >= 2
    assert stats["entities_by_type"]["Actor"] >= 2 and stats["quads"] == len(store)


def test_store_killed_build_leaves_only_whole_articles(tmp_path, extractor):
    """kill -9 in the middle of a build: the store opens and every article graph is complete."""
    corpus = tmp_path / "corpus.jsonl"
    lines = []
    for i in range(3000):
        text = (f"Russia launched {i + 20} drones at Odesa overnight, officials said. Ukraine said it shot down "
                f"{i + 3} of them over the Odesa region. Moscow denied targeting civilians.")
        lines.append(json.dumps({"text": text, "url": f"https://example.org/{i}"}))
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store_dir = tmp_path / "store"
    exe = os.path.join(os.path.dirname(sys.executable), "kg")
    proc = subprocess.Popen([exe, "build", "--store", str(store_dir), str(corpus)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The model loads in a few seconds; then articles are written one transaction each.
    time.sleep(15)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = GraphStore(store_dir)
    graphs = store.article_graphs()
    assert 0 < len(graphs) < 3000, "the build should have been killed part-way"
    expected = {article_iri(a): a for a in iter_articles([str(corpus)])}
    for graph in graphs[:25]:
        want = {q.triple for q in to_quads(extractor.extract(expected[graph]))[0]}
        want.add(ox.Triple(ox.NamedNode(graph), ox.NamedNode(PROV + "wasGeneratedBy"),
                           ox.NamedNode(f"{ID}pipeline/{pipeline_fingerprint()}")))
        have = {q.triple for q in store.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
        assert have == want


def test_store_reader_opens_read_only_while_a_writer_holds_the_lock(tmp_path, extractor):
    path = tmp_path / "store"
    writer = GraphStore(path)
    writer.replace_article(extractor.extract(make_article("Russia said it shot down 12 drones over Kursk.",
                                                          path="a.txt")))
    writer.flush()
    reader = GraphStore(path, create=False)          # would fail on the lock without the fallback
    assert reader.read_only and len(reader) == len(writer) > 0
    assert reader.stats()["articles"] == 1
    with pytest.raises(StoreError, match="read-only"):
        reader.replace_article(extractor.extract(make_article("Kyiv denied the claim.", path="b.txt")))
    with pytest.raises(StoreError, match="in use"):
        GraphStore(path)                               # a second writer is still refused
