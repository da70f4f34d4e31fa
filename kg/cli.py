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
          workers: int = typer.Option(1, "--workers", "-j", min=1, help="Extraction processes (one model each)."),
          force: bool = typer.Option(False, "--force", help="Rebuild articles even when they are current."),
          store: str = StoreOption) -> None:
    """Read articles, extract entities, events and statements, and write each article's graph.

    Formats: .txt (optional Title:/Source:/Published:/URL: header), .md, .html, .jsonl (one article
    per line: text, and optional title, url, published, source, id). Building an article again
    replaces its graph; an article whose text and pipeline are unchanged is skipped (--force rebuilds).
    A bad input is reported with its file and line; the rest goes on (exit 1).
    """
    from kg.build import build as build_store
    from kg.store import GraphStore

    graph_store = GraphStore(store)
    with _progress() as progress:
        task = progress.add_task("building", total=None)

        def written(extraction) -> None:
            progress.update(task, advance=1, description=escape(extraction.article.path or extraction.article.id)[-60:])

        report = build_store(paths, graph_store, workers=workers, force=force, on_written=written,
                             on_error=lambda error: err_console.print(f"error: {error}", markup=False))
    err_console.print(f"built {report.written} article(s) ({report.quads} article quads), skipped "
                      f"{report.skipped} unchanged, into {store} in {report.seconds:.1f}s; "
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


@app.command()
def query(name: str | None = typer.Argument(None, help="A canned query name (see --list) or a .rq file."),
          expression: str | None = typer.Option(None, "-e", "--expression", help="SPARQL query text."),
          param: list[str] = typer.Option([], "--param", help="Parameter as name=value (bound as an RDF term)."),
          fmt: ResultFormat = typer.Option(ResultFormat.table, "--format", help="table, csv, tsv or json."),
          list_queries: bool = typer.Option(False, "--list", help="List the canned queries and their parameters."),
          store: str = StoreOption) -> None:
    """Run a read-only SPARQL query: canned (queries/*.rq), from a file, or inline with -e."""
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
    result = q.run(GraphStore(store, create=False), canned, _parse_params(param))
    if fmt is ResultFormat.table and result.boolean is None and not result.triples:
        table = Table(*result.variables, title=f"{canned.name}: {len(result.rows)} row(s)")
        for row in result.rows:
            table.add_row(*(escape(q.term_text(t)) for t in row))
        console.print(table)
    else:
        sys.stdout.write(q.render(result, fmt.value if fmt is not ResultFormat.table else "csv"))
        sys.stdout.write("" if fmt is ResultFormat.json else "")


@app.command()
def viz(output: Path = typer.Option(Path("out/graph.html"), "-o", "--output", help="HTML file to write."),
        focus: str | None = typer.Option(None, "--focus", help="Label of an entity to centre on."),
        hops: int = typer.Option(2, "--hops", min=0, max=6, help="Neighbourhood radius around --focus."),
        query_name: str | None = typer.Option(None, "--query", help="Show the neighbourhood of a query's results."),
        param: list[str] = typer.Option([], "--param", help="Parameter for --query, as name=value."),
        node_budget: int = typer.Option(1500, "--max-nodes", min=10, help="Reduce the graph above this many nodes."),
        store: str = StoreOption) -> None:
    """Write an interactive graph (one self-contained HTML file that works offline)."""
    from kg import query as q
    from kg import viz as viz_module
    from kg.store import GraphStore

    graph_store = GraphStore(store, create=False)
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
        store: str = StoreOption) -> None:
    """Serve the store as a SPARQL 1.1 endpoint at http://HOST:PORT/sparql, with a small home page."""
    from kg.serve import serve

    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"warning: --host {host} makes the store reachable from the network", markup=False)
    serve(Path(store), host=host, port=port, timeout=timeout, max_rows=max_rows,
          allow_update=allow_update, cors=cors)


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
