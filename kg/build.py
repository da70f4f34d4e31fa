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
from typing import TYPE_CHECKING

from kg import __version__
from kg.errors import InputError
from kg.ingest import iter_articles
from kg.model import Article, Extraction
from kg.store import GraphStore

if TYPE_CHECKING:   # only for the hint: kg.remote imports httpx
    from kg.remote import RemoteStore

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


#: spaCy's default ``nlp.max_length``: a longer text is refused by the parser (and would need ~1 GB per
#: 100,000 words if allowed), which would stop a whole batch.
MAX_ARTICLE_CHARS = 1_000_000


def _within_model_limit(articles: Iterable[Article], fail: Callable[[InputError], None]) -> Iterator[Article]:
    """Articles short enough for the model; longer ones are reported (by path) and the batch goes on."""
    for article in articles:
        if len(article.text) > MAX_ARTICLE_CHARS:
            fail(InputError(article.path or article.id,
                            f"the article has {len(article.text):,} characters, more than the "
                            f"{MAX_ARTICLE_CHARS:,} the language model reads at once",
                            "Split it into smaller articles (one per file or JSONL line)"))
            continue
        yield article


def build(specs: list[str], store: GraphStore | RemoteStore, *, workers: int | None = 1, force: bool = False,
          dask: str | None = None, on_written: Callable[[Extraction], None] | None = None,
          on_error: Callable[[InputError], None] | None = None) -> BuildReport:
    """Build (or refresh) the store from files, directories, globs or "-"; errors are reported, not raised.

    With ``dask`` (a scheduler address, or "local") extraction runs on a Dask cluster (kg/distributed.py)
    and extractions arrive in any order, which is fine: each article is its own graph."""
    started = time.perf_counter()
    report = BuildReport()
    fingerprint = pipeline_fingerprint()

    def fail(error: InputError) -> None:
        report.failures.append(error)
        if on_error:
            on_error(error)

    def pending() -> Iterator[Article]:
        for item in iter_articles(specs):
            if isinstance(item, InputError):
                fail(item)
            elif not force and store.is_current(item, fingerprint):
                report.skipped += 1
            else:
                yield item

    if dask:
        from kg.distributed import dask_extractions

        source = dask_extractions(pending(), dask, workers=workers, on_error=fail, fingerprint=fingerprint)
    else:
        source = extractions(_within_model_limit(pending(), fail), workers or 1)
    for extraction in source:
        report.quads += store.replace_article(extraction, generated_by=fingerprint)
        report.written += 1
        if on_written:
            on_written(extraction)
    store.flush()
    report.seconds = time.perf_counter() - started
    return report
