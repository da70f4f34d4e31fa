"""Extraction on a Dask cluster (``kg build --dask ADDRESS`` or ``--dask local``), writing in this process.

Each Dask worker loads the model once, in a worker plugin, and extracts batches of articles sent by
this process; the store is written only here, one transaction per article, in whatever order the
batches come back. Order does not matter because every article has its own named graph and the
entity graph is a set union, so the result is the same as a build in one process. Articles already
current in the store are skipped before anything is sent, and only a few batches are in flight at a
time, so a corpus of any size streams through with bounded memory on both sides.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from kg.errors import InputError, KgError, UsageError
from kg.model import Article, Extraction

try:
    from distributed import WorkerPlugin
except ImportError:   # an optional extra: kg[dask]; the error comes when --dask is asked for
    WorkerPlugin = object

#: The name the worker plugin is registered under; tasks find the loaded model through it.
PLUGIN_NAME = "kg-extractor"
#: Articles per task: enough for spaCy to batch and to amortise the round trip to the scheduler.
BATCH_SIZE = 8
#: Seconds to wait for the scheduler before giving up (env KG_DASK_TIMEOUT).
DEFAULT_TIMEOUT = 10.0


class ClusterError(KgError):
    """The Dask cluster cannot be reached or cannot run kg (a worker without kg, or another version of it)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class ExtractionFailure:
    """What a worker sends back instead of an Extraction when one article raised."""

    path: str
    problem: str


#: Models loaded in this process (a worker process should load one, however many builds it serves).
MODEL_LOADS = 0


@dataclass
class WorkerModel:
    """What a worker keeps between tasks: the loaded extractor, and counts an operator can read with
    ``client.run(lambda dask_worker: dask_worker.kg_model.stats())``."""

    extractor: object
    fingerprint: str
    batches: int = 0
    articles: int = 0
    # spaCy does not promise thread safety, and a worker started with --nthreads 2 runs two tasks at
    # once; extraction holds the GIL anyway, so taking turns costs nothing.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stats(self) -> dict:
        return {"model_loads": MODEL_LOADS, "batches": self.batches, "articles": self.articles,
                "fingerprint": self.fingerprint}


def _import_distributed():
    if WorkerPlugin is object:
        raise UsageError("--dask needs Dask, which is not installed: pip install 'kg[dask]'")
    import distributed

    return distributed


class ExtractorPlugin(WorkerPlugin):
    """Loads kg's model once per worker process, before the worker takes a task.

    ``fingerprint`` is the pipeline fingerprint of the kg process that writes the store: a worker with
    another kg (version, extraction code or catalogues) refuses, since its graphs would be recorded as
    made by a pipeline that did not make them. Registering again (the next build on a long-lived
    cluster) keeps the model a worker already has."""

    def __init__(self, fingerprint: str):
        self.fingerprint = fingerprint

    def setup(self, worker) -> None:
        from kg.build import pipeline_fingerprint

        mine = pipeline_fingerprint()
        if mine != self.fingerprint:
            raise ClusterError(f"Dask worker {worker.address} runs another kg pipeline (fingerprint {mine}, this "
                               f"build {self.fingerprint}). Install the same kg, with the same catalogues, on "
                               "every worker")
        if getattr(worker, "kg_model", None) is None:
            from kg.extract import Extractor

            global MODEL_LOADS
            worker.kg_model = WorkerModel(Extractor(), mine)
            MODEL_LOADS += 1


def extract_batch(articles: list[Article]) -> list[Extraction | ExtractionFailure]:
    """Runs on a worker: extract a batch with the worker's model; an article that raises becomes a failure.

    The batch goes through spaCy's ``pipe`` together; only when that raises is it redone one article
    at a time, so that one bad article costs its batch a second pass, not its place in the store."""
    from distributed import get_worker

    worker = get_worker()
    model: WorkerModel | None = getattr(worker, "kg_model", None)
    if model is None:
        problem = f"worker {worker.address} has no kg model (its plugin setup failed: see the worker's log)"
        return [ExtractionFailure(_where(a), problem) for a in articles]
    with model.lock:
        model.batches += 1
        model.articles += len(articles)
        try:
            return list(model.extractor.extract_many(articles, batch_size=len(articles)))
        except Exception:
            results: list[Extraction | ExtractionFailure] = []
            for article in articles:
                try:
                    results.append(model.extractor.extract(article))
                except Exception as err:
                    results.append(ExtractionFailure(_where(article), f"on worker {worker.address}: "
                                                                      f"{type(err).__name__}: {err}"))
            return results


def _where(article: Article) -> str:
    return article.path or article.id


def _timeout() -> float:
    value = os.environ.get("KG_DASK_TIMEOUT", "")
    try:
        return float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        raise UsageError(f"KG_DASK_TIMEOUT={value!r}: give the seconds to wait for the scheduler, e.g. 30") from None


@contextmanager
def connect(address: str, workers: int | None = None, timeout: float | None = None):
    """A Dask client for ``address``: a scheduler ("tcp://host:8786") or "local" for a LocalCluster here.

    The local cluster has ``workers`` processes (default: one per core) of one thread each, binds
    127.0.0.1 and has no dashboard; it is closed on exit."""
    distributed = _import_distributed()
    timeout = _timeout() if timeout is None else timeout
    if address == "local":
        import logging

        cluster = distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                           processes=True, host="127.0.0.1", dashboard_address=None,
                                           silence_logs=logging.ERROR)
        try:
            with distributed.Client(cluster, set_as_default=False) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {timeout:g}s ({err}). "
                           "Start one with `dask scheduler` and workers with `dask worker ADDRESS --nthreads 1` "
                           "(kg installed on each), or use --dask local") from None
    with client:
        yield client


def _register(client, fingerprint: str, address: str) -> None:
    try:
        client.register_plugin(ExtractorPlugin(fingerprint), name=PLUGIN_NAME)
    except ClusterError:
        raise
    except Exception as err:   # a worker without kg cannot even unpickle the plugin
        raise ClusterError(f"the Dask workers of {address} could not load kg's model ({type(err).__name__}: "
                           f"{err}). Install the same kg on every worker (pip install kg)") from None


def dask_extractions(articles: Iterable[Article], address: str, *, workers: int | None = None,
                     on_error: Callable[[InputError], None], batch_size: int | None = None,
                     fingerprint: str | None = None, timeout: float | None = None) -> Iterator[Extraction]:
    """Extract a stream of articles on a Dask cluster; extractions come back in the order they finish.

    An article that fails on a worker, or whose worker died, goes to ``on_error`` as an InputError
    naming its path, and the rest go on. Nothing is started or contacted when there is nothing to
    extract (a rebuild of unchanged articles)."""
    stream = iter(articles)
    first = next(stream, None)
    if first is None:
        return
    if fingerprint is None:
        from kg.build import pipeline_fingerprint

        fingerprint = pipeline_fingerprint()
    distributed = _import_distributed()
    stream = itertools.chain([first], stream)
    size = batch_size or BATCH_SIZE
    batches = iter(lambda: list(itertools.islice(stream, size)), [])
    with connect(address, workers=workers, timeout=timeout) as client:
        _register(client, fingerprint, address)
        # Twice the cluster's threads: each worker has its next batch queued while one is written here.
        window = max(2, 2 * sum(client.nthreads().values()))
        in_flight: dict = {}
        finished = distributed.as_completed(loop=client.loop)
        try:
            for batch in batches:
                future = client.submit(extract_batch, batch, pure=False)
                in_flight[future] = batch
                finished.add(future)
                if len(in_flight) >= window:
                    yield from _collect(next(finished), in_flight, address, on_error)
            for future in finished:
                yield from _collect(future, in_flight, address, on_error)
        finally:
            for future in in_flight:
                future.cancel()


def _collect(future, in_flight: dict, address: str, on_error: Callable[[InputError], None]) -> Iterator[Extraction]:
    """The extractions of one finished batch; its failures go to ``on_error``."""
    batch = in_flight.pop(future)
    if future.status == "cancelled":
        raise ClusterError(f"lost the Dask scheduler at {address} during the build; the articles written so far "
                           "are complete: run the same build again to do the rest (they are skipped)")
    if future.status == "error":
        # Only a dead worker gets here (extract_batch catches what extraction raises): KilledWorker.
        err = future.exception()
        results: list = [ExtractionFailure(_where(a), f"its worker died while extracting its batch "
                                                      f"({type(err).__name__}: {err})") for a in batch]
    else:
        results = future.result()
    future.release()
    for item in results:
        if isinstance(item, ExtractionFailure):
            on_error(InputError(item.path, f"extraction failed on the Dask cluster ({item.problem})",
                                "The other articles were written; `kg extract` on this one shows the error in "
                                "one process"))
        else:
            yield item
