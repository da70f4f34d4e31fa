"""The ``kg`` command: thin wrappers that parse options, call one library function and print.

Exit codes: 0 success, 1 some input failed (the rest was processed), 2 usage errors.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kg.errors import KgError, UsageError
from kg.evaluate import MATCHING_RULES

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Turn conflict reporting into an RDF knowledge graph with evidence for every fact.")
console = Console()
err_console = Console(stderr=True)

DEFAULT_STORE = "./kg-store"
StoreOption = typer.Option(DEFAULT_STORE, "--store", envvar="KG_STORE",
                           help="Store directory (env KG_STORE).", show_default=True)
# A remote store (kg/remote.py) instead of --store: SPARQL Protocol to read, Graph Store Protocol to write.
EndpointOption = typer.Option(None, "--endpoint", metavar="URL",
                              help="Remote SPARQL query endpoint instead of --store (with --flavor oxigraph|virtuoso "
                                   "the server's root URL will do). Its default graph must be the union of the "
                                   "named graphs: oxigraph serve --union-default-graph (kg asks for it per query "
                                   "too), Virtuoso by default.")
GspOption = typer.Option(None, "--gsp", metavar="URL",
                         help="Graph Store Protocol URL for writes (default: derived from --flavor).")
FlavorOption = typer.Option("generic", "--flavor",
                            help="generic (give --gsp to write), oxigraph (/query, /store?graph=) or virtuoso "
                                 "(/sparql, /sparql-graph-crud?graph-uri=, -auth with --user).")
UserOption = typer.Option(None, "--user", envvar="KG_ENDPOINT_USER", help="User for HTTP auth (env KG_ENDPOINT_USER).")
PasswordEnvOption = typer.Option("KG_ENDPOINT_PASSWORD", "--password-env", metavar="VAR",
                                 help="Environment variable holding the password (never on the command line).")
AuthOption = typer.Option("auto", "--auth", help="basic, digest, or auto (digest for virtuoso, else basic).")


def _remote_store(endpoint: str, gsp: str | None, flavor: str, user: str | None, password_env: str, auth: str,
                  **http):
    """A RemoteStore for --endpoint; timeouts, retries and request size default from KG_HTTP_* variables."""
    from kg.remote import connect

    return connect(endpoint, gsp=gsp, flavor=flavor, user=user, password_env=password_env, auth=auth, **http)


class ExtractFormat(str, Enum):
    json = "json"
    table = "table"


class ResultFormat(str, Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


class ExportFormat(str, Enum):
    ttl = "ttl"
    trig = "trig"
    nq = "nq"
    jsonld = "jsonld"


def _progress():
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed} articles"), TimeElapsedColumn(),
                    console=err_console, transient=True, disable=not err_console.is_terminal)


@app.command()
def build(paths: list[str] = typer.Argument(..., help="Files, directories (recursive), globs, or - for stdin."),
          workers: int | None = typer.Option(None, "--workers", "-j", min=1, show_default=False,
                                             help="Extraction processes (one model each); default 1, or one per "
                                                  "core with --dask local."),
          force: bool = typer.Option(False, "--force", help="Rebuild articles even when they are current."),
          dask: str | None = typer.Option(None, "--dask", metavar="ADDRESS",
                                          help="Extract on a Dask cluster: a scheduler (tcp://host:8786, kg "
                                               "installed on every worker) or 'local' for a cluster of -j "
                                               "processes here. Needs pip install 'kg[dask]'."),
          endpoint: str | None = EndpointOption, gsp: str | None = GspOption, flavor: str = FlavorOption,
          user: str | None = UserOption, password_env: str = PasswordEnvOption, auth: str = AuthOption,
          store: str = StoreOption) -> None:
    """Read articles, extract entities, events and statements, and write each article's graph.

    Formats: .txt (optional Title:/Source:/Published:/URL: header), .md, .html, .jsonl (one article
    per line: text, and optional title, url, published, source, id). Building an article again
    replaces its graph; an article whose text and pipeline are unchanged is skipped (--force rebuilds).
    A bad input is reported with its file and line; the rest goes on (exit 1).
    With --endpoint the graphs go to a remote server instead (Graph Store Protocol; see kg push --help).
    """
    from kg.build import build as build_store
    from kg.store import GraphStore

    graph_store = _remote_store(endpoint, gsp, flavor, user, password_env, auth) if endpoint else GraphStore(store)
    with _progress() as progress:
        task = progress.add_task("building", total=None)

        def written(extraction) -> None:
            progress.update(task, advance=1, description=escape(extraction.article.path or extraction.article.id)[-60:])

        report = build_store(paths, graph_store, workers=workers, force=force, dask=dask, on_written=written,
                             on_error=lambda error: err_console.print(f"error: {error}", markup=False))
    err_console.print(f"built {report.written} article(s) ({report.quads} article quads), skipped "
                      f"{report.skipped} unchanged, into {endpoint or store} in {report.seconds:.1f}s; "
                      f"{len(report.failures)} input(s) failed", markup=False)
    if report.failures:
        raise typer.Exit(1)


@app.command()
def extract(path: str = typer.Argument(..., help="An article file (or - for stdin)."),
            fmt: ExtractFormat = typer.Option(ExtractFormat.json, "--format", help="json or table.")) -> None:
    """Show what kg extracts from one article (entities, events, statements), without touching the store."""
    from kg.errors import InputError
    from kg.extract import Extractor
    from kg.ingest import iter_articles
    from kg.model import to_json

    items = list(iter_articles([path]))
    errors = [i for i in items if isinstance(i, InputError)]
    for error in errors:
        err_console.print(f"error: {error}", markup=False)
    articles = [i for i in items if not isinstance(i, InputError)]
    extractor = Extractor() if articles else None
    for article in articles:
        extraction = extractor.extract(article)
        if fmt is ExtractFormat.json:
            # One article: indented JSON; several (a JSONL file): one JSON object per line.
            indent = 1 if len(articles) == 1 else None
            sys.stdout.write(json.dumps(to_json(extraction), ensure_ascii=False, indent=indent))
            sys.stdout.write("\n")
        else:
            _print_extraction(extraction)
    if errors:
        raise typer.Exit(1)


def _print_extraction(extraction) -> None:
    labels = {e.id: e.label for e in extraction.entities}
    console.print(f"[bold]{escape(extraction.article.title or extraction.article.id)}[/bold]")
    table = Table("label", "type", "subtype", "wikidata", "mentions", title="entities")
    for e in extraction.entities:
        table.add_row(*(escape(x) for x in (e.label, e.type, e.subtype or "", e.wikidata or "",
                                            ", ".join(sorted({m.text for m in e.mentions})))))
    console.print(table)
    table = Table("type", "agent", "target", "weapons", "places", "count", "time", "sentence", title="events")
    for ev in extraction.events:
        table.add_row(*(escape(x) for x in (
            ev.type, labels.get(ev.agent, ""), labels.get(ev.target, ""),
            ", ".join(labels[w] for w in ev.weapons), ", ".join(labels[p] for p in ev.places),
            "" if ev.quantity is None else (ev.quantity.text or str(ev.count)),
            ev.time.text if ev.time else "", ev.sentence.text)))
    console.print(table)
    table = Table("speaker", "stance", "hedged", "verb", "sentence", title="statements")
    for st in extraction.statements:
        table.add_row(*(escape(x) for x in (labels.get(st.speaker, f"({st.speaker_text or 'unnamed'})"),
                                            st.stance, "yes" if st.hedged else "no", st.verb, st.sentence.text)))
    console.print(table)


def _parse_params(params: list[str]) -> dict[str, str]:
    values = {}
    for item in params:
        if "=" not in item:
            raise UsageError(f"--param {item!r}: write it as name=value")
        name, value = item.split("=", 1)
        values[name.strip()] = value
    return values


def _parse_endpoints(items: list[str]) -> dict[str, str]:
    endpoints = {}
    for item in items:
        name, _, url = item.partition("=")
        if not name.strip() or not url.strip():
            raise UsageError(f"--service-endpoint {item!r}: write it as NAME=URL, e.g. wikidata=http://127.0.0.1:8890/sparql")
        endpoints[name.strip()] = url.strip()
    return endpoints


@app.command()
def query(name: str | None = typer.Argument(None, help="A canned query name (see --list) or a .rq file."),
          expression: str | None = typer.Option(None, "-e", "--expression", help="SPARQL query text."),
          param: list[str] = typer.Option([], "--param", help="Parameter as name=value (bound as an RDF term)."),
          fmt: ResultFormat = typer.Option(ResultFormat.table, "--format", help="table, csv, tsv or json."),
          list_queries: bool = typer.Option(False, "--list", help="List the canned queries and their parameters."),
          service_endpoint: list[str] = typer.Option(
              [], "--service-endpoint", metavar="NAME=URL",
              help="Send the query's SERVICE <IRI> to URL instead; NAME is the IRI or the alias 'wikidata' "
                   "(https://query.wikidata.org/sparql). Repeatable."),
          service_timeout: float = typer.Option(60.0, "--service-timeout", min=0.001,
                                                help="Seconds a query with SERVICE may take before kg gives up."),
          endpoint: str | None = EndpointOption, flavor: str = FlavorOption, user: str | None = UserOption,
          password_env: str = PasswordEnvOption, auth: str = AuthOption,
          store: str = StoreOption) -> None:
    """Run a read-only SPARQL query: canned (queries/*.rq), from a file, or inline with -e.

    Federated queries: SERVICE <https://query.wikidata.org/sparql> { ... } asks Wikidata's Query
    Service (weapons-manufacturer-wikidata does). Oxigraph sends the SERVICE pattern once, as written,
    without the bindings found locally, so keep that pattern selective. --service-endpoint
    wikidata=URL sends it to another endpoint (a mirror, a test server); only the IRI after SERVICE is
    replaced. --service-timeout bounds the whole query (pyoxigraph has no per-SERVICE timeout).
    With --endpoint the query runs on a remote SPARQL endpoint; parameters travel as a VALUES block.
    """
    from kg import query as q
    from kg.store import GraphStore

    if list_queries:
        table = Table("name", "answers", "parameters")
        for cq in q.canned_queries().values():
            params = "\n".join(f"{p.name} ({'required' if p.required else 'optional'}): {p.doc}" for p in cq.params)
            table.add_row(cq.name, cq.answers, params)
        console.print(table)
        return
    canned = q.resolve(name, expression)
    q.check_read_only(canned)
    if service_endpoint:
        canned = q.redirect_services(canned, _parse_endpoints(service_endpoint))
    source = (_remote_store(endpoint, None, flavor, user, password_env, auth) if endpoint
              else GraphStore(store, create=False))
    result = q.run(source, canned, _parse_params(param), service_timeout=service_timeout)
    if fmt is ResultFormat.table and result.boolean is None and not result.triples:
        table = Table(*result.variables, title=f"{canned.name}: {len(result.rows)} row(s)")
        for row in result.rows:
            table.add_row(*(escape(q.term_text(t)) for t in row))
        console.print(table)
    else:
        sys.stdout.write(q.render(result, fmt.value if fmt is not ResultFormat.table else "csv"))
        sys.stdout.write("" if fmt is ResultFormat.json else "")


class EntityTypeName(str, Enum):
    Actor = "Actor"
    WeaponSystem = "WeaponSystem"
    Place = "Place"


@app.command()
def link(online: bool = typer.Option(False, "--online", help="Look entities up on Wikidata (uses the network)."),
         dry_run: bool = typer.Option(False, "--dry-run", help="Print the proposed links; write nothing."),
         threshold: float = typer.Option(0.7, "--threshold", min=0.0, max=1.0,
                                         help="Link only candidates with at least this confidence (0..1)."),
         types: list[EntityTypeName] = typer.Option([], "--type", help="Only entities of this type (repeatable)."),
         limit: int | None = typer.Option(None, "--limit", min=1, help="Look up at most this many entities."),
         wikidata_api: str | None = typer.Option(None, "--wikidata-api", envvar="KG_WIKIDATA_API",
                                                 help="MediaWiki API URL (default https://www.wikidata.org/w/api.php)."),
         wikidata_sparql: str | None = typer.Option(None, "--wikidata-sparql", envvar="KG_WIKIDATA_SPARQL",
                                                    help="Query Service URL (default https://query.wikidata.org/sparql)."),
         cache: Path | None = typer.Option(None, "--cache", envvar="KG_WIKIDATA_CACHE",
                                           help="SQLite file of cached answers (default ~/.cache/kg/wikidata.sqlite)."),
         refresh: bool = typer.Option(False, "--refresh", help="Ask again even when an answer is cached."),
         timeout: float = typer.Option(30.0, "--timeout", min=0.1, help="Seconds to wait for one HTTP answer."),
         retries: int = typer.Option(4, "--retries", min=0, max=10,
                                     help="Retries on 429, 5xx or connection errors (waits 1, 2, 4... s)."),
         store: str = StoreOption) -> None:
    """Link entities without a Wikidata id to Wikidata items (--online), with confidence and enrichment.

    Offline linking (catalogue ids, GeoNames places) happens during kg build. With --online, each entity
    of the store that has no Wikidata owl:sameAs is searched by label, its candidates are type-checked in
    the Query Service (a weapon system links only to a weapon...) and scored; the best one at or above
    --threshold is written to the entity graph with a kg:EntityLink record (confidence, method), plus
    labels in other languages, NATO reporting name, operators and state of origin, and for places the
    GeoNames id and point when missing. All links are written in one transaction after all lookups, so
    a failure leaves the store unchanged; answers are cached, so a second run sends no request.
    Exit codes: 0 done, 2 usage (e.g. no --online), 3 Wikidata unreachable or answering garbage.
    """
    from kg.enrich import ENTITY_TYPES, find_unlinked, link_online
    from kg.store import GraphStore
    from kg.wikidata import WikidataClient

    graph_store = GraphStore(store, create=False)
    wanted = tuple(t.value for t in types) or ENTITY_TYPES
    if not online:
        unlinked = find_unlinked(graph_store, wanted)
        raise UsageError(f"{len(unlinked)} entit{'y has' if len(unlinked) == 1 else 'ies have'} no Wikidata id in "
                         f"{store}; kg link --online would look them up on Wikidata (add --dry-run to see the "
                         "proposed links first). Offline linking from the catalogue already happens in kg build")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with WikidataClient(wikidata_api, wikidata_sparql, cache_path=cache, refresh=refresh, timeout=timeout,
                        retries=retries) as client, \
            Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                     TimeElapsedColumn(), console=err_console, transient=True,
                     disable=not err_console.is_terminal) as progress:
        task = progress.add_task("looking up", total=None)
        report = link_online(graph_store, client, threshold=threshold, types=wanted, limit=limit, dry_run=dry_run,
                             on_start=lambda n: progress.update(task, total=n),
                             on_entity=lambda e: progress.update(task, advance=1,
                                                                 description=escape(e.label)[:40]))
    shown = report.proposals if dry_run else report.linked
    table = Table("entity", "type", "wikidata", "item label", "description", "confidence", "note",
                  title="proposed links" if dry_run else "links written")
    for proposal in shown:
        best = proposal.best or (proposal.candidates[0] if proposal.candidates else None)
        if proposal.best is not None:
            note = ""
        elif best is None:
            note = "no candidate"
        else:
            note = f"below {threshold:g}" + (f"; {best.reason}" if best.reason else "")
        table.add_row(*(escape(x) for x in (
            proposal.entity.label, proposal.entity.type, best.qid if best else "", best.label if best else "",
            (best.description if best else "")[:60], f"{best.confidence:.2f}" if best else "", note)))
    if shown:
        console.print(table)
    err_console.print(f"{'would link' if dry_run else 'linked'} {len(report.linked)} of {len(report.proposals)} "
                      f"entities without a Wikidata id ({report.quads} quads written); {report.requests} HTTP "
                      f"request(s), {report.cache_hits} answer(s) from the cache", markup=False)


@app.command()
def viz(output: Path | None = typer.Option(None, "-o", "--output",
                                          help="HTML file to write (default out/graph.html; out/map.html with --map)."),
        map_view: bool = typer.Option(False, "--map", help="Draw the places that have events on an offline map "
                                                           "instead of the graph."),
        focus: str | None = typer.Option(None, "--focus", help="Label of an entity to centre on (with --map: keep "
                                                               "the events it takes part in)."),
        hops: int = typer.Option(2, "--hops", min=0, max=6, help="Neighbourhood radius around --focus."),
        query_name: str | None = typer.Option(None, "--query", help="Show the neighbourhood of a query's results."),
        param: list[str] = typer.Option([], "--param", help="Parameter for --query, as name=value."),
        node_budget: int = typer.Option(1500, "--max-nodes", min=10, help="Reduce the graph above this many nodes."),
        endpoint: str | None = EndpointOption, flavor: str = FlavorOption, user: str | None = UserOption,
        password_env: str = PasswordEnvOption, auth: str = AuthOption,
        store: str = StoreOption) -> None:
    """Write an interactive graph, or with --map a map of where events happened (one self-contained HTML file
    that works offline)."""
    from kg import query as q
    from kg import viz as viz_module
    from kg.store import GraphStore

    graph_store = (_remote_store(endpoint, None, flavor, user, password_env, auth) if endpoint
                   else GraphStore(store, create=False))
    if map_view:
        from kg import mapviz

        if query_name:
            raise UsageError("--query is not supported with --map; use --focus LABEL")
        output = output or Path("out/map.html")
        places = mapviz.read_places(graph_store, focus=focus)
        output.parent.mkdir(parents=True, exist_ok=True)
        map_report = mapviz.render_html(places, output, f"kg map: {focus}" if focus else "kg map")
        err_console.print(f"wrote {output} ({map_report.bytes // 1024} KB): {map_report.located} place(s) on the map"
                          f" ({map_report.approximate} at their country's centre), {map_report.unlocated} without "
                          f"coordinates listed below it; {map_report.events} event(s)", markup=False)
        return
    output = output or Path("out/graph.html")
    seeds = None
    if query_name:
        result = q.run(graph_store, q.resolve(query_name, None), _parse_params(param))
        # IRIs and labels in the result rows both name nodes (actor-network returns labels).
        seeds = sorted({q.term_text(t) for row in result.rows for t in row if t is not None})
    graph, report = viz_module.project(graph_store, focus=focus, hops=hops, seeds=seeds, node_budget=node_budget)
    output.parent.mkdir(parents=True, exist_ok=True)
    title = f"kg: {focus}" if focus else (f"kg: {query_name}" if query_name else "kg graph")
    viz_module.render_html(graph, output, title)
    err_console.print(f"wrote {output}: {report.nodes} nodes, {report.edges} edges"
                      + (f"; {report.note}" if report.note else ""), markup=False)


@app.command()
def push(endpoint: str = typer.Option(..., "--endpoint", metavar="URL",
                                      help="The remote server's SPARQL endpoint (or root URL with --flavor)."),
         gsp: str | None = GspOption, flavor: str = FlavorOption, user: str | None = UserOption,
         password_env: str = PasswordEnvOption, auth: str = AuthOption,
         timeout: float | None = typer.Option(None, "--timeout", min=0.1, envvar="KG_HTTP_TIMEOUT",
                                              help="Seconds per HTTP answer (default 30; env KG_HTTP_TIMEOUT)."),
         retries: int | None = typer.Option(None, "--retries", min=0, max=10, envvar="KG_HTTP_RETRIES",
                                            help="Retries on connection errors, 429 and 5xx, with exponential "
                                                 "backoff or the server's Retry-After (default 3)."),
         max_body: int | None = typer.Option(None, "--max-body", min=1024, envvar="KG_HTTP_MAX_BODY", metavar="BYTES",
                                             help="Largest request body; a larger graph goes as a PUT and POSTs "
                                                  "(default 8 MiB)."),
         store: str = StoreOption) -> None:
    """Copy every named graph of the local store to a remote store (SPARQL 1.1 Graph Store Protocol).

    One PUT of N-Triples per graph (article graphs and the shared entity graph), so pushing again leaves
    the same quads. A graph that fails is named and the push goes on (exit 1).

    \b
    Oxigraph server:  oxigraph serve --location DIR --bind 127.0.0.1:7878 --union-default-graph
                      kg push --flavor oxigraph --endpoint http://127.0.0.1:7878
    Virtuoso:         KG_ENDPOINT_PASSWORD=dba kg push --flavor virtuoso --endpoint http://127.0.0.1:8890 --user dba
                      (Digest auth on /sparql-graph-crud-auth; without --user, /sparql-graph-crud needs
                      GRANT SPARQL_UPDATE TO "SPARQL")
    Other servers:    kg push --endpoint QUERY-URL --gsp GRAPH-STORE-URL
    The same options make kg build write there and kg query / kg viz read from there. Passwords come
    from the environment only (KG_ENDPOINT_PASSWORD, or the variable named by --password-env).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from kg.remote import push as push_store
    from kg.store import GraphStore

    local = GraphStore(store, create=False)
    with _remote_store(endpoint, gsp, flavor, user, password_env, auth, timeout=timeout, retries=retries,
                       max_body=max_body) as remote, \
            Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                     TimeElapsedColumn(), console=err_console, transient=True,
                     disable=not err_console.is_terminal) as progress:
        task = progress.add_task("pushing", total=None)
        report = push_store(local, remote, on_start=lambda n: progress.update(task, total=n),
                            on_graph=lambda graph, _: progress.update(task, advance=1, description=escape(graph)[-60:]))
    for graph, error in report.failed:
        err_console.print(f"error: graph <{graph}> not pushed: {error}", markup=False)
    err_console.print(f"pushed {report.graphs} graph(s), {report.triples} triples, from {store} to "
                      f"{remote.endpoints.gsp} in {report.seconds:.1f}s; {len(report.failed)} graph(s) failed",
                      markup=False)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def export(fmt: ExportFormat = typer.Option(ExportFormat.trig, "--format", help="ttl, trig, nq or jsonld."),
           output: Path | None = typer.Option(None, "-o", "--output", help="File to write (default stdout)."),
           store: str = StoreOption) -> None:
    """Export the store (TriG/N-Quads keep the per-article graphs; Turtle and JSON-LD merge them for ttl)."""
    from kg.store import GraphStore

    data = GraphStore(store, create=False).export(fmt.value)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
        err_console.print(f"wrote {output} ({len(data)} bytes)", markup=False)
    else:
        sys.stdout.buffer.write(data)


@app.command()
def stats(fmt: ExtractFormat = typer.Option(ExtractFormat.table, "--format", help="table or json."),
          store: str = StoreOption) -> None:
    """Articles, entities by type, events, statements and quads in the store."""
    from kg.store import GraphStore

    figures = GraphStore(store, create=False).stats()
    if fmt is ExtractFormat.json:
        sys.stdout.write(json.dumps(figures, indent=1) + "\n")
        return
    table = Table("what", "count", title=f"kg store {store}")
    for key in ("articles", "entities"):
        table.add_row(key, str(figures[key]))
    for type_, n in figures["entities_by_type"].items():
        table.add_row(f"  {type_}", str(n))
    for key in ("events", "statements", "quads"):
        table.add_row(key, str(figures[key]))
    console.print(table)


@app.command()
def validate(store: str = StoreOption) -> None:
    """Check the store against the SHACL shapes in ontologies/shapes.ttl (exit 1 when it does not conform)."""
    import rdflib

    from kg.store import GraphStore
    from kg.validate import validate_graph

    data = GraphStore(store, create=False).export("nq")
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format="nquads")
    union = rdflib.Graph()
    for quad in dataset.quads((None, None, None, None)):
        union.add(quad[:3])
    report = validate_graph(union)
    if report.conforms:
        console.print(f"conforms: {len(union)} triples checked against the shapes")
        return
    sys.stdout.write(report.text + "\n")
    raise typer.Exit(1)


@app.command("serve")
def serve_command(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (127.0.0.1: this machine only)."),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free port)."),
        timeout: float = typer.Option(30.0, "--timeout", min=0.001, help="Seconds before a query is stopped (503)."),
        max_rows: int = typer.Option(10000, "--max-rows", min=1,
                                     help="Rows per answer at most (X-KG-Truncated: true when cut)."),
        allow_update: bool = typer.Option(False, "--allow-update",
                                          help="Accept SPARQL Update and the Graph Store protocol at /store."),
        cors: bool = typer.Option(False, "--cors", help="Send CORS headers (any origin, GET and POST)."),
        allow_service: bool = typer.Option(False, "--allow-service",
                                           help="Run SERVICE clauses (federated queries: the server then fetches "
                                                "URLs its clients name)."),
        store: str = StoreOption) -> None:
    """Serve the store: SPARQL 1.1 endpoint at http://HOST:PORT/sparql and the browser UI at http://HOST:PORT/."""
    from kg.serve import serve

    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"warning: --host {host} makes the store reachable from the network", markup=False)
    serve(Path(store), host=host, port=port, timeout=timeout, max_rows=max_rows,
          allow_update=allow_update, cors=cors, allow_service=allow_service)


@app.command(name="eval", help="Score extraction against gold annotations (NN-slug.txt + NN-slug.gold.json) "
             "and print precision/recall/F1 per layer, accuracies, and with -v the misses per article.\n\n"
             "\b\nMatching rules:\n" + MATCHING_RULES)
def eval_(directory: Path = typer.Argument(..., help="Folder of NN-slug.txt with NN-slug.gold.json."),
          fmt: ExtractFormat = typer.Option(ExtractFormat.table, "--format", help="table or json."),
          verbose: bool = typer.Option(False, "--verbose", "-v", help="List misses and spurious items per article.")
          ) -> None:
    from kg.evaluate import ACCURACIES, LAYERS, evaluate

    report = evaluate(directory)
    if fmt is ExtractFormat.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n")
        return
    table = Table("layer", "precision", "recall", "F1", "tp / predicted / gold", title=f"kg eval {directory}")
    for key in LAYERS:
        c = report.layers[key]
        table.add_row(key, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", f"{c.tp} / {c.predicted} / {c.gold}")
    console.print(table)
    table = Table("accuracy", "value", "right / total")
    for key in ACCURACIES:
        a = report.accuracy[key]
        table.add_row(key, f"{a.value:.3f}", f"{a.right} / {a.total}")
    console.print(table)
    if verbose:
        for article in report.articles:
            console.print(f"\n[bold]{escape(article.name)}[/bold]")
            for error in article.errors:
                console.print(f"  error: {escape(error)}")
            for kind, items in (("miss", article.misses), ("spurious", article.spurious)):
                for layer, entries in items.items():
                    for entry in entries:
                        console.print(f"  {kind} {layer}: {escape(entry)}")


def main() -> None:
    """Entry point: KgErrors become messages and exit codes in one place."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except KgError as err:
        err_console.print(f"error: {err}", markup=False)
        raise SystemExit(err.exit_code) from None


if __name__ == "__main__":
    main()
