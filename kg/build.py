"""Building the store from articles: read, skip what is already current, extract (in one process or
a pool of worker processes), and write each article's graph in its own transaction.

An article is current when its graph holds the same content hash and was made by the same
pipeline (a fingerprint of kg's version, its extraction code and its catalogues), so re-building
unchanged articles costs a lookup each, and any change to the text or the pipeline rebuilds it.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kg import __version__
from kg.errors import InputError
from kg.ingest import iter_articles
from kg.model import Article, Extraction
from kg.store import GraphStore

_PACKAGE = Path(__file__).resolve().parent


@dataclass
class BuildReport:
    written: int = 0
    skipped: int = 0
    quads: int = 0
    failures: list[InputError] = field(default_factory=list)
    seconds: float = 0.0


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """A hash of everything that decides what an article's graph contains."""
    digest = hashlib.sha256(__version__.encode())
    files = sorted([*(_PACKAGE / "extract").glob("*.py"), *(_PACKAGE / "catalog").glob("*.yaml"),
                    *(_PACKAGE / name for name in ("nlp.py", "rdf.py", "link.py", "model.py", "ingest.py"))])
    for path in files:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- worker processes ------------------------------------------------------------------------------
_worker_extractor = None


def _init_worker() -> None:
    global _worker_extractor
    from kg.extract import Extractor

    _worker_extractor = Extractor()


def _extract_in_worker(articles: list[Article]) -> list[Extraction]:
    return list(_worker_extractor.extract_many(articles))


#: Articles per pool task: enough for spaCy to batch and to amortise pickling, few enough to keep
#: both workers busy to the end of a small input.
POOL_CHUNK = 8


def _ordered_pool_map(articles: Iterable[Article], workers: int) -> Iterator[Extraction]:
    """Extractions in input order from a process pool, with a bounded number in flight (streaming)."""
    window: deque[Future] = deque()
    stream = iter(articles)   # one iterator, so each slice takes the next articles
    chunks = iter(lambda: list(itertools.islice(stream, POOL_CHUNK)), [])
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        for chunk in chunks:
            window.append(pool.submit(_extract_in_worker, chunk))
            if len(window) >= workers * 3:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()


def extractions(articles: Iterable[Article], workers: int = 1) -> Iterator[Extraction]:
    """Extract a stream of articles, in order, in this process or in ``workers`` processes.

    The model is loaded only once there is something to extract (a rebuild of unchanged articles
    loads nothing)."""
    iterator = iter(articles)
    first = next(iterator, None)
    if first is None:
        return
    stream = itertools.chain([first], iterator)
    if workers <= 1:
        from kg.extract import Extractor

        yield from Extractor().extract_many(stream)
    else:
        yield from _ordered_pool_map(stream, workers)


def build(specs: list[str], store: GraphStore, *, workers: int = 1, force: bool = False,
          on_written: Callable[[Extraction], None] | None = None,
          on_error: Callable[[InputError], None] | None = None) -> BuildReport:
    """Build (or refresh) the store from files, directories, globs or "-"; errors are reported, not raised."""
    started = time.perf_counter()
    report = BuildReport()
    fingerprint = pipeline_fingerprint()

    def pending() -> Iterator[Article]:
        for item in iter_articles(specs):
            if isinstance(item, InputError):
                report.failures.append(item)
                if on_error:
                    on_error(item)
            elif not force and store.is_current(item, fingerprint):
                report.skipped += 1
            else:
                yield item

    for extraction in extractions(pending(), workers):
        report.quads += store.replace_article(extraction, generated_by=fingerprint)
        report.written += 1
        if on_written:
            on_written(extraction)
    store.flush()
    report.seconds = time.perf_counter() - started
    return report
