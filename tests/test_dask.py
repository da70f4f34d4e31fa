"""Building on a Dask cluster: the same graphs as a build in one process, one model per worker, skips
before anything is sent, and clear errors for an unreachable scheduler and an article that fails.

The cluster is real (a LocalCluster of two worker processes on 127.0.0.1), started once for the module;
each worker loads the model, so the corpus is kept small.
"""

from __future__ import annotations

import logging
import socket
from collections import defaultdict

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

import kg.distributed
from kg.build import build
from kg.rdf import ENTITY_GRAPH
from kg.store import GraphStore
from tests.conftest import ROOT

distributed = pytest.importorskip("distributed", reason="kg[dask] is not installed")

SEEDS = ROOT / "seeds"
ARTICLES = {
    "odesa.txt": "Title: Drones hit Odesa port\n\nRussia launched 20 Shahed drones at Odesa overnight, Ukrainian "
                 "officials said. The air force said 17 of them were shot down.\n",
    "kharkiv.txt": "Ukraine said it shot down 14 drones over the Kharkiv region on Tuesday. Russia denied "
                   "targeting civilians.\n",
    "haifa.txt": "Hezbollah fired 30 rockets at Haifa on Sunday, the Israeli military said. Iron Dome "
                 "intercepted most of them.\n",
    "kursk.txt": "The Russian Defense Ministry said its S-400 systems destroyed eight ATACMS missiles over "
                 "the Kursk region.\n",
}
JSONL_LINES = [
    '{"id": "t-1", "title": "Strike on Sumy", "text": "Russia struck Sumy with two Iskander-M missiles on Monday, '
    'the regional governor said."}',
    '{"id": "t-2", "title": "Aid", "text": "Germany will send another IRIS-T system to Ukraine, the defence '
    'minister said."}',
    '{"id": "t-3", "title": "Baku", "text": "Azerbaijan accused Armenia of shelling its positions near the '
    'border, Interfax reported."}',
]


def _corpus(folder):
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "more.jsonl").write_text("\n".join(JSONL_LINES) + "\n", encoding="utf-8")
    return [str(SEEDS), str(folder)]


def _graphs(store: GraphStore) -> dict[str, rdflib.Graph]:
    """Each named graph of the store as an rdflib Graph (kg writes no blank nodes; isomorphic checks that)."""
    triples = defaultdict(list)
    for quad in store.store:
        triples[quad.graph_name.value].append(quad.triple)
    graphs = {}
    for name, items in triples.items():
        graph = rdflib.Graph()
        graph.parse(data=ox.serialize(items, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")
        graphs[name] = graph
    return graphs


def _worker_stats(client) -> dict:
    return client.run(lambda dask_worker: dask_worker.kg_model.stats())


def _free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.ERROR) as local:
        with distributed.Client(local, set_as_default=False) as client:
            yield local.scheduler_address, client


# First in the module, so its own local cluster does not run beside the module's.
def test_dask_cli_builds_on_a_local_cluster(run_kg, tmp_path):
    first = run_kg("build", "--dask", "local", "-j", "2", str(SEEDS), check_rc=0)
    assert "built 1 article(s)" in first.stderr.decode()
    again = run_kg("build", "--dask", "local", "-j", "2", str(SEEDS), check_rc=0)
    assert "built 0 article(s)" in again.stderr.decode() and "skipped 1 unchanged" in again.stderr.decode()
    assert len(GraphStore(tmp_path / "store").article_graphs()) == 1


def test_dask_cli_names_an_unreachable_scheduler(run_kg, monkeypatch):
    address = _free_address()
    monkeypatch.setenv("KG_DASK_TIMEOUT", "2")
    proc = run_kg("build", "--dask", address, str(SEEDS), check_rc=1)
    message = proc.stderr.decode()
    assert f"cannot reach the Dask scheduler at {address}" in message
    assert "dask scheduler" in message and "Traceback" not in message


def test_dask_build_gives_the_same_graphs_as_one_process(cluster, tmp_path, monkeypatch):
    address, client = cluster
    monkeypatch.setattr(kg.distributed, "BATCH_SIZE", 2)   # several batches, finishing in any order
    specs = _corpus(tmp_path / "docs")
    on_dask, local = GraphStore(tmp_path / "dask"), GraphStore(tmp_path / "local")
    errors = []
    report = build(specs, on_dask, dask=address, on_error=errors.append)
    assert errors == [] and (report.written, report.skipped) == (8, 0)
    build(specs, local, workers=1)

    dask_graphs, local_graphs = _graphs(on_dask), _graphs(local)
    assert sorted(dask_graphs) == sorted(local_graphs) and len(dask_graphs) == 9   # 8 articles + entities
    for name, graph in local_graphs.items():
        assert isomorphic(dask_graphs[name], graph), name
    assert set(dask_graphs[ENTITY_GRAPH]) == set(local_graphs[ENTITY_GRAPH])

    stats = _worker_stats(client)
    assert [s["model_loads"] for s in stats.values()] == [1, 1]   # one model per worker, not per batch
    assert sum(s["batches"] for s in stats.values()) == 4 and sum(s["articles"] for s in stats.values()) == 8

    # The next build on the same cluster registers the plugin again but keeps each worker's model.
    forced = build(specs, on_dask, dask=address, force=True)
    assert forced.written == 8 and not forced.failures
    assert [s["model_loads"] for s in _worker_stats(client).values()] == [1, 1]


def test_dask_rebuild_of_current_articles_sends_nothing(cluster, tmp_path):
    address, client = cluster
    specs = _corpus(tmp_path / "docs")
    store = GraphStore(tmp_path / "store")
    assert build(specs, store, dask=address).written == 8
    before = _worker_stats(client)
    again = build(specs, store, dask=address)
    assert (again.written, again.skipped, again.failures) == (0, 8, [])
    assert _worker_stats(client) == before
    # Nothing to extract: the scheduler is not even contacted.
    assert build(specs, store, dask=_free_address()).skipped == 8


def test_dask_article_failing_on_a_worker_is_reported_and_the_rest_written(cluster, tmp_path):
    address, _ = cluster
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(ARTICLES["odesa.txt"], encoding="utf-8")
    (docs / "b.txt").write_text(ARTICLES["haifa.txt"], encoding="utf-8")
    # Longer than spaCy's nlp.max_length (1,000,000 characters) but under ingest's 20 MB limit: the
    # worker's pipeline refuses it, a real failure on the worker.
    huge = docs / "huge.txt"
    huge.write_text("Officials said the strike hit a depot. " * 30_000, encoding="utf-8")
    store = GraphStore(tmp_path / "store")
    errors = []
    report = build([str(docs)], store, dask=address, on_error=errors.append)
    assert report.written == 2 and len(store.article_graphs()) == 2
    assert [e.path for e in errors] == [str(huge)] and report.failures == errors
    assert "extraction failed on the Dask cluster" in str(errors[0]) and "E088" in str(errors[0])


def test_dask_worker_with_another_pipeline_is_refused(cluster):
    from kg.distributed import ClusterError, dask_extractions
    from kg.ingest import make_article

    address, _ = cluster
    article = make_article(ARTICLES["kursk.txt"], path="<test>")
    # As if this process ran another kg than the workers: they refuse rather than mislabel graphs.
    with pytest.raises(ClusterError, match="runs another kg pipeline"):
        list(dask_extractions([article], address, on_error=pytest.fail, fingerprint="another-pipeline"))
