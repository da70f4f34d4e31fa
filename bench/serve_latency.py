"""HTTP latency of every canned query, and of the UI's pages, through a real kg serve on 127.0.0.1.

    .venv/bin/python bench/serve_latency.py --store kg-store [--runs 7] [--no-pages]

The server is started in this process (uvicorn on a free port, in a thread, as the tests do) on the
store given; each request is made with httpx, after one warm-up request, ``--runs`` times in a row,
and the table gives the median and the 95th percentile of the wall time per request, the rows
answered and the size of the answer. Canned queries go through ``/api/query/NAME`` so that their
optional parameters are bound (to "", which the queries read as "no filter"); the same text sent to
``/sparql`` leaves them unbound, and then their filters reject every row. Queries that call a
remote SERVICE are skipped (they need the network).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

#: Parameters for the queries that need one, and a filtered variant of the one the UI opens with.
QUERY_PARAMS: dict[str, list[dict[str, str]]] = {
    "evidence": [{"entity": "S-400"}],
    "weapons-by-place": [{}, {"weapon": "S-400"}],
}


def _start(store: Path) -> tuple[uvicorn.Server, threading.Thread, str]:
    from kg.serve import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(store, timeout=300), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - started > 60:
            sys.exit(f"the server did not start on {store}")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def _time(client: httpx.Client, url: str, params: dict, runs: int) -> tuple[list[float], httpx.Response]:
    response = client.get(url, params=params)   # warm-up (and a check that it answers)
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: HTTP {response.status_code}: {response.text[:300]}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, params=params)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times, response


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("kg-store"), help="the kg store to serve")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per query (after one warm-up)")
    parser.add_argument("--no-pages", action="store_true", help="time the canned queries only")
    args = parser.parse_args()
    if not args.store.exists():
        sys.exit(f"{args.store}: no kg store here; build one with: kg build --store {args.store} PATH...")

    server, thread, base = _start(args.store)
    rows: list[tuple[str, str, str, float, float, int]] = []
    try:
        with httpx.Client(timeout=600) as client:
            health = client.get(f"{base}/health").json()
            queries = client.get(f"{base}/api/queries").json()
            for query in queries:
                if query["network"]:
                    continue
                for params in QUERY_PARAMS.get(query["name"], [{}]):
                    times, response = _time(client, f"{base}/api/query/{query['name']}", params, args.runs)
                    answered = len(response.json()["results"]["bindings"])
                    label = ",".join(f"{k}={v}" for k, v in params.items())
                    rows.append((query["name"], label, str(answered), statistics.median(times), _p95(times),
                                 len(response.content)))
            if not args.no_pages:
                entity = "/entity/actor/russia"
                article = client.get(f"{base}/sparql", params={
                    "query": "SELECT ?a WHERE { ?a a schema:NewsArticle } ORDER BY ?a LIMIT 1"}).json()
                key = article["results"]["bindings"][0]["a"]["value"].rsplit("/", 1)[-1]
                for page in ("/", "/query", "/claims", entity, "/entity/weaponsystem/s-400", f"/article/{key}"):
                    times, response = _time(client, f"{base}{page}", {}, args.runs)
                    rows.append(("page " + page, "", "", statistics.median(times), _p95(times),
                                 len(response.content)))
    finally:
        server.should_exit = True
        thread.join(10)

    print(f"kg serve latency on {args.store}: {health['articles']:,} articles, {health['quads']:,} quads; "
          f"{args.runs} runs after 1 warm-up")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    header = ("request", "params", "rows", "median ms", "p95 ms", "bytes")
    widths = [max(len(header[0]), *(len(r[0]) for r in rows)), max(len(header[1]), *(len(r[1]) for r in rows)), 6,
              10, 10, 10]

    def line(cells) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs)

    print(line(header))
    for name, params, answered, median, p95, size in rows:
        print(line((name, params, answered, f"{median * 1000:,.0f}", f"{p95 * 1000:,.0f}", f"{size:,}")))


if __name__ == "__main__":
    main()
