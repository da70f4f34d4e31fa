"""Queries: canned queries with headers, parameters bound as terms, updates refused."""

from __future__ import annotations

import pytest

from kg import query as q
from kg.errors import QueryError
from kg.ingest import make_article
from kg.store import GraphStore


@pytest.fixture(scope="module")
def store(tmp_path_factory, extractor):
    s = GraphStore(tmp_path_factory.mktemp("q") / "store")
    texts = [
        ("Russian officials accused Ukraine of shelling the Zaporizhzhia plant, a claim that Kyiv denied.", "a"),
        ("Ukraine said it shot down 12 Russian drones over the Kyiv region. S-400 launchers were deployed near "
         "Belgorod, the Russian defense ministry said.", "b"),
    ]
    for text, key in texts:
        s.replace_article(extractor.extract(make_article(text, title=f"Report {key}", url=f"https://example.org/{key}")))
    return s


def test_query_every_canned_query_has_a_header_and_runs(store):
    queries = q.canned_queries()
    assert {"entities", "events", "statements", "weapons-by-place", "claims-by-actor", "evidence",
            "contradictions", "actor-network"} <= set(queries)
    for name, cq in queries.items():
        assert cq.answers, name
        if q.has_service(cq):
            continue    # federated: would call the remote endpoint (tested against a local one elsewhere)
        values = {p.name: "S-400" for p in cq.params if p.required}
        q.run(store, cq, values)


def test_query_contradictions_finds_accusation_and_denial(store):
    result = q.run(store, q.canned_queries()["contradictions"])
    rows = [dict(zip(result.variables, (q.term_text(t) for t in row), strict=True)) for row in result.rows]
    assert any(r["speaker1"] == "Russia" and r["stance1"] == "accuse" and r["speaker2"] == "Ukraine"
               and r["stance2"] == "deny" for r in rows)


def test_query_contradictions_links_the_same_event_across_sources(tmp_path, extractor):
    s = GraphStore(tmp_path / "store")
    reports = [("Kyiv said its air defenses shot down 11 drones over the Odesa region.", "kyiv"),
               ("Moscow said Russian air defenses shot down 17 drones over the Odesa region.", "moscow")]
    for text, key in reports:
        s.replace_article(extractor.extract(make_article(text, title=key, url=f"https://example.org/{key}",
                                                         published="2024-03-10")))
    result = q.run(s, q.canned_queries()["contradictions"])
    rows = [dict(zip(result.variables, (q.term_text(t) for t in row), strict=True)) for row in result.rows]
    counts = [r for r in rows if "counts differ" in r["conflict"]]
    assert len(counts) == 1
    assert {counts[0]["speaker1"], counts[0]["speaker2"]} == {"Ukraine", "Russia"}
    assert {counts[0]["headline1"], counts[0]["headline2"]} == {"kyiv", "moscow"}


def test_query_evidence_by_label_or_alias(store):
    result = q.run(store, q.canned_queries()["evidence"], {"entity": "s-400"})
    assert result.rows and all("S-400" in q.term_text(row[2]) for row in result.rows)


def test_query_parameters_are_bound_not_pasted(store):
    hostile = 'Russia") } ; DROP ALL ; SELECT * WHERE { ("'
    before = len(store)
    result = q.run(store, q.canned_queries()["claims-by-actor"], {"actor": hostile})
    assert result.rows == () and len(store) == before


def test_query_optional_parameter_filters(store):
    everything = q.run(store, q.canned_queries()["claims-by-actor"])
    russia = q.run(store, q.canned_queries()["claims-by-actor"], {"actor": "Russia"})
    assert 0 < len(russia.rows) < len(everything.rows)


@pytest.mark.parametrize("text", ["DELETE WHERE { ?s ?p ?o }", "INSERT DATA { <a:b> <a:c> <a:d> }",
                                  "PREFIX x: <http://x/>\nDROP ALL"])
def test_query_updates_are_refused(store, text):
    with pytest.raises(QueryError, match="read-only"):
        q.run(store, q.resolve(None, text))


def test_query_unknown_name_and_missing_parameter(store):
    with pytest.raises(QueryError, match="Did you mean"):
        q.resolve("evidense", None)
    with pytest.raises(QueryError, match="needs --param entity"):
        q.run(store, q.canned_queries()["evidence"])


def test_query_formats(store):
    result = q.run(store, q.canned_queries()["statements"])
    assert q.render(result, "csv").splitlines()[0].startswith("speaker,stance")
    assert '"bindings"' in q.render(result, "json")
    assert "\t" in q.render(result, "tsv").splitlines()[0]


@pytest.mark.parametrize(("second_day", "pairs"), [("2024-03-11", 1), ("2024-03-12", 1), ("2024-03-15", 0)])
def test_query_contradictions_counts_pair_only_reports_within_two_days(tmp_path, extractor, second_day, pairs):
    s = GraphStore(tmp_path / "store")
    reports = [("Kyiv said its air defenses shot down 11 drones over the Odesa region.", "kyiv", "2024-03-10"),
               ("Moscow said Russian air defenses shot down 17 drones over the Odesa region.", "moscow", second_day)]
    for text, key, day in reports:
        s.replace_article(extractor.extract(make_article(text, title=key, url=f"https://example.org/{key}",
                                                         published=day)))
    result = q.run(s, q.canned_queries()["contradictions"])
    rows = [dict(zip(result.variables, (q.term_text(t) for t in row), strict=True)) for row in result.rows]
    assert len([r for r in rows if "counts differ" in r["conflict"]]) == pairs
