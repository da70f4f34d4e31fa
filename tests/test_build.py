"""Building: incremental skips by content and pipeline, worker processes give the same quads."""

from __future__ import annotations

from kg.build import build
from kg.store import GraphStore


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


def _quads(store: GraphStore) -> list[str]:
    return sorted(str(q) for q in store.store)


def test_build_skips_unchanged_and_rebuilds_changed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    _write(docs, "a.txt", "Russia launched 20 drones at Odesa overnight, officials said.\n")
    _write(docs, "b.txt", "Ukraine said it shot down 14 drones over the Kharkiv region.\n")
    store = GraphStore(tmp_path / "store")
    first = build([str(docs)], store)
    assert (first.written, first.skipped) == (2, 0)
    before = _quads(store)
    again = build([str(docs)], store)
    assert (again.written, again.skipped) == (0, 2) and _quads(store) == before
    _write(docs, "b.txt", "Ukraine said it shot down 19 drones over the Kharkiv region.\n")
    changed = build([str(docs)], store)
    assert (changed.written, changed.skipped) == (1, 1)
    counts = [q.object.value for q in store.store if q.predicate.value.endswith("#count")]
    assert sorted(counts) == ["19", "20"]
    forced = build([str(docs)], store, force=True)
    assert forced.written == 2


def test_build_with_two_workers_gives_the_same_quads(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        _write(docs, f"{i}.txt", f"Russia launched {i + 10} missiles at Kyiv, the air force said. "
                                 f"Air defenses intercepted {i + 3} of them.\n")
    one, two = GraphStore(tmp_path / "one"), GraphStore(tmp_path / "two")
    build([str(docs)], one, workers=1)
    report = build([str(docs)], two, workers=2)
    assert report.written == 6
    assert _quads(one) == _quads(two)


def test_build_reports_an_article_too_long_for_the_model_and_goes_on(tmp_path):
    from kg.build import MAX_ARTICLE_CHARS, build
    from kg.store import GraphStore

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "huge.txt").write_text("Drones struck a depot near Kharkiv, officials said. "
                                              * (MAX_ARTICLE_CHARS // 50 + 10))
    (tmp_path / "in" / "short.txt").write_text("Ukraine's air force said it shot down 12 drones over Kyiv.")
    report = build([str(tmp_path / "in")], GraphStore(tmp_path / "store"))
    assert report.written == 1
    assert len(report.failures) == 1 and "huge.txt" in str(report.failures[0])
    assert "characters" in str(report.failures[0])
