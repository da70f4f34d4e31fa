"""The real ``kg`` command: exit codes, formats, and the user's sample end to end."""

from __future__ import annotations

import json

from tests.conftest import ROOT, SEED


def test_cli_build_query_stats_on_the_seed(run_kg, tmp_path):
    run_kg("build", str(ROOT / "seeds"), check_rc=0)
    stats = json.loads(run_kg("stats", "--format", "json", check_rc=0).stdout)
    assert stats["articles"] == 1 and stats["events"] >= 3 and stats["statements"] >= 5
    quads = stats["quads"]
    run_kg("build", str(ROOT / "seeds"), check_rc=0)
    assert json.loads(run_kg("stats", "--format", "json", check_rc=0).stdout)["quads"] == quads
    csv_out = run_kg("query", "evidence", "--param", "entity=S-400", "--format", "csv", check_rc=0).stdout.decode()
    assert "S-300 and S-400 batteries" in csv_out
    assert "contradictions" in run_kg("query", "--list", check_rc=0).stdout.decode()


def test_cli_bad_input_reported_and_batch_goes_on(run_kg, tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x00\x00binary")
    proc = run_kg("build", str(SEED), str(tmp_path / "bin.txt"), str(tmp_path / "missing.txt"))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "bin.txt" in err and "missing.txt" in err and "built 1 article" in err


def test_cli_usage_errors_exit_2(run_kg):
    assert run_kg("query", "no-such-query").returncode == 2
    assert run_kg("build").returncode == 2
    assert run_kg("query", "-e", "DROP ALL").returncode == 2


def test_cli_query_without_store_says_what_to_do(run_kg):
    proc = run_kg("stats")
    assert proc.returncode == 1 and "kg build" in proc.stderr.decode()


def test_cli_extract_json_contract(run_kg):
    out = json.loads(run_kg("extract", str(SEED), "--format", "json", check_rc=0).stdout)
    assert set(out) == {"article", "entities", "events", "statements"}
    assert {"id", "title", "source", "url", "published", "path"} <= set(out["article"])
    entity = out["entities"][0]
    assert {"id", "label", "type", "subtype", "wikidata", "geonames", "mentions"} <= set(entity)
    assert run_kg("extract", str(SEED), "--format", "table", check_rc=0).stdout


def test_cli_export_formats(run_kg, tmp_path):
    run_kg("build", str(SEED), check_rc=0)
    import rdflib

    for fmt, parser in [("trig", "trig"), ("nq", "nquads"), ("ttl", "turtle"), ("jsonld", "json-ld")]:
        out = tmp_path / f"kg.{fmt}"
        run_kg("export", "--format", fmt, "-o", str(out), check_rc=0)
        graph = rdflib.Dataset() if fmt in {"trig", "nq", "jsonld"} else rdflib.Graph()
        graph.parse(out, format=parser)
        triples = sum(1 for _ in graph.quads()) if fmt in {"trig", "nq", "jsonld"} else len(graph)
        assert triples > 100, fmt


def test_cli_stdin_build(run_kg):
    proc = run_kg("build", "-", stdin=b"Russia said its air defenses shot down 9 drones over the Bryansk region.\n")
    assert proc.returncode == 0
