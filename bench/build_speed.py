"""Benchmark: kg build speed on seeds/ + ../shared/eval-dev (articles/s and words/s).

Warms up once, then runs N times and prints medians: pipeline load time, and extraction + store
writes per article, against bare spaCy ``nlp.pipe`` on the same texts (the model's ceiling).

    .venv/bin/python bench/build_speed.py [--runs 5] [PATH ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "seeds"), str(ROOT.parent / "shared" / "eval-dev")])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from kg.extract import Extractor
    from kg.ingest import iter_articles
    from kg.store import GraphStore

    articles = [a for a in iter_articles(args.paths) if not isinstance(a, Exception)]
    words = sum(len(a.text.split()) for a in articles)
    started = time.perf_counter()
    extractor = Extractor()
    load = time.perf_counter() - started

    def build() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            store = GraphStore(Path(tmp) / "store")
            t = time.perf_counter()
            for extraction in extractor.extract_many(articles):
                store.replace_article(extraction)
            return time.perf_counter() - t

    def bare() -> float:
        t = time.perf_counter()
        for _ in extractor.nlp.pipe(a.text for a in articles):
            pass
        return time.perf_counter() - t

    build(), bare()  # warm-up
    builds = [build() for _ in range(args.runs)]
    bares = [bare() for _ in range(args.runs)]
    b, n = statistics.median(builds), statistics.median(bares)
    print(f"command: {' '.join(sys.argv)}")
    print(f"articles={len(articles)} words={words} runs={args.runs}")
    print(f"pipeline load            {load:8.2f} s")
    print(f"kg build (median)        {b:8.3f} s  {len(articles) / b:8.1f} articles/s  {words / b:9.0f} words/s")
    print(f"bare nlp.pipe (median)   {n:8.3f} s  {len(articles) / n:8.1f} articles/s  {words / n:9.0f} words/s")
    print(f"ratio build/bare         {n / b:8.2f}")


if __name__ == "__main__":
    main()
