"""Running SPARQL against the store: canned queries from queries/*.rq, files, or inline text.

Parameters are bound as RDF terms through Oxigraph's substitutions (never pasted into the query
text), and a query that would modify the store is refused before it reaches the engine.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import QUERY_DIR
from kg.errors import QueryError
from kg.rdf import WIKIDATA_SPARQL
from kg.store import GraphStore

_UPDATE = re.compile(r"^\s*(INSERT|DELETE|DROP|CLEAR|LOAD|CREATE|COPY|MOVE|ADD|WITH)\b", re.I | re.M)
_PARAM = re.compile(r"^#\s*param:\s*(?P<name>[A-Za-z][\w-]*)\s+\?(?P<var>\w+)\s+(?P<kind>iri|literal|integer|date)"
                    r"\s+(?P<need>required|optional)\s*(?:—|-)?\s*(?P<doc>.*)$")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    variable: str
    kind: str
    required: bool
    doc: str


@dataclass(frozen=True, slots=True)
class CannedQuery:
    name: str
    path: Path
    text: str
    answers: str
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A SELECT's variables and rows (terms as pyoxigraph objects, None when unbound), or an ASK's boolean."""

    variables: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    boolean: bool | None = None
    triples: tuple[object, ...] = ()


def parse_header(path: Path, text: str) -> CannedQuery:
    answers: list[str] = []
    params = []
    reading_answers = False
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# answers:"):
            answers.append(line.split(":", 1)[1].strip())
            reading_answers = True
        elif (m := _PARAM.match(line)):
            params.append(Param(m["name"], m["var"], m["kind"], m["need"] == "required", m["doc"].strip()))
            reading_answers = False
        elif reading_answers and line.startswith("#  "):
            answers.append(line[1:].strip())
        else:
            reading_answers = False
    return CannedQuery(path.stem, path, text, " ".join(answers), tuple(params))


def canned_queries(directory: Path = QUERY_DIR) -> dict[str, CannedQuery]:
    return {p.stem: parse_header(p, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.rq"))}


def resolve(spec: str | None, inline: str | None) -> CannedQuery:
    """A canned query by name, a .rq file, or inline text (-e)."""
    if inline is not None:
        return parse_header(Path("<inline>"), inline)
    if spec is None:
        raise QueryError("give a query: a canned name (kg query --list), a .rq file, or -e 'SELECT ...'")
    path = Path(spec)
    if spec.endswith(".rq") or path.is_file():
        if not path.is_file():
            raise QueryError(f"{spec}: no such query file. Check the path")
        return parse_header(path, path.read_text(encoding="utf-8"))
    queries = canned_queries()
    if spec not in queries:
        import difflib

        close = difflib.get_close_matches(spec, list(queries), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise QueryError(f"{spec}: no canned query of that name.{hint} See kg query --list")
    return queries[spec]


def to_term(value: str, kind: str) -> ox.NamedNode | ox.Literal:
    """A parameter value as an RDF term of the declared kind."""
    if kind == "iri" or (value.startswith("<") and value.endswith(">")):
        iri = value.strip("<>")
        try:
            return ox.NamedNode(iri)
        except ValueError as err:
            raise QueryError(f"{value!r} is not a valid IRI ({err})") from None
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise QueryError(f"{value!r} is not an integer")
        return ox.Literal(value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    if kind == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise QueryError(f"{value!r} is not a date (YYYY-MM-DD)")
        return ox.Literal(value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    return ox.Literal(value)


def bind(query: CannedQuery, values: dict[str, str]) -> dict[ox.Variable, object]:
    declared = {p.name: p for p in query.params}
    substitutions: dict[ox.Variable, object] = {}
    for name, value in values.items():
        param = declared.get(name)
        if param is None:
            if query.params:
                known = ", ".join(p.name for p in query.params)
                raise QueryError(f"{query.name} has no parameter {name!r}; its parameters: {known}")
            # Inline or undocumented query: bind ?name as a literal (or an IRI in <...>).
            substitutions[ox.Variable(name)] = to_term(value, "literal")
            continue
        substitutions[ox.Variable(param.variable)] = to_term(value, param.kind)
    # An optional parameter the user leaves out is bound to "" (queries test STR(?x) = ""):
    # Oxigraph substitutes variables after evaluation, so BOUND() cannot tell.
    for param in query.params:
        if not param.required and param.name not in values:
            substitutions[ox.Variable(param.variable)] = ox.Literal("")
    missing = [p.name for p in query.params if p.required and p.name not in values]
    if missing:
        raise QueryError(f"{query.name} needs --param {missing[0]}=VALUE ({declared[missing[0]].doc})")
    return substitutions


def check_read_only(query: CannedQuery) -> None:
    """Refuse updates before they reach the engine (the store is never changed by kg query)."""
    body = "\n".join(ln for ln in query.text.splitlines() if not ln.lstrip().startswith("#"))
    body = re.sub(r"^\s*(PREFIX|BASE)\s+[^\n]*$", "", body, flags=re.I | re.M)
    if _UPDATE.search(body):
        raise QueryError(f"{query.name}: this is an update (INSERT/DELETE/DROP/...); kg query is read-only "
                         "and refuses to change the store")


def run(store: GraphStore, query: CannedQuery, values: dict[str, str] | None = None,
        service_timeout: float | None = None) -> QueryResult:
    """Run a read-only query with bound parameters.

    A query with a SERVICE clause runs in a worker thread and is given up after ``service_timeout``
    seconds: Oxigraph waits for a remote endpoint without limit, and pyoxigraph has no timeout option."""
    check_read_only(query)
    substitutions = bind(query, values or {})
    if service_timeout is None or not has_service(query):
        outcome = _evaluate(store, query, substitutions)
    else:
        box: list = []

        def work() -> None:
            try:
                box.append(_evaluate(store, query, substitutions, catch=True))
            except Exception as err:  # e.g. a remote store's own error: handed to the caller's thread
                box.append(err)

        worker = threading.Thread(target=work, name="kg-query", daemon=True)
        worker.start()
        worker.join(service_timeout)
        if not box:
            raise QueryError(f"{query.name}: no answer within --service-timeout {service_timeout:g} s (a SERVICE "
                             "endpoint is slow or not answering). Check the endpoint, or allow more time")
        outcome = box[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _evaluate(store: GraphStore, query: CannedQuery, substitutions: dict, catch: bool = False):
    """Evaluate and read all results; errors (also those raised while reading, as SERVICE calls are)
    become QueryErrors, returned instead of raised when ``catch`` (in a worker thread)."""
    try:
        result = store.query(query.text, substitutions=substitutions or None)
        if isinstance(result, bool):
            return QueryResult((), (), boolean=result)
        if isinstance(result, ox.QuerySolutions):
            # Parameter variables are projected only so Oxigraph can substitute them; hide them.
            hidden = {p.variable for p in query.params}
            variables = tuple(v.value for v in result.variables if v.value not in hidden)
            rows = tuple(tuple(solution[v] for v in variables) for solution in result)
            return QueryResult(variables, rows)
        return QueryResult((), (), triples=tuple(result))
    except SyntaxError as err:
        error = QueryError(f"{query.name}: SPARQL syntax error: {err}")
    except OSError as err:
        error = QueryError(f"{query.name}: the query failed: {err}")
    if catch:
        return error
    raise error


_SERVICE = re.compile(r"\bSERVICE\b", re.I)
#: Names for the SERVICE endpoints canned queries use, for --service-endpoint NAME=URL.
SERVICE_ALIASES = {"wikidata": WIKIDATA_SPARQL}


def _body(query: CannedQuery) -> str:
    return "\n".join(ln for ln in query.text.splitlines() if not ln.lstrip().startswith("#"))


def has_service(query: CannedQuery) -> bool:
    return bool(_SERVICE.search(_body(query)))


def redirect_services(query: CannedQuery, endpoints: dict[str, str]) -> CannedQuery:
    """The query with ``SERVICE <IRI>`` sent to another URL, per ``endpoints`` (IRI or alias -> URL).

    Only the exact token ``<IRI>`` right after SERVICE (or SERVICE SILENT) is replaced, by a URL checked
    to be an http(s) IRI; nothing else of the query text changes. For tests, mirrors and proxies."""
    text = query.text
    for source, url in endpoints.items():
        iri = SERVICE_ALIASES.get(source, source)
        if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", url):
            raise QueryError(f"--service-endpoint {source}={url}: {url!r} is not an http(s) URL")
        try:
            ox.NamedNode(url)
        except ValueError as err:
            raise QueryError(f"--service-endpoint {source}={url}: not a valid IRI ({err})") from None
        pattern = re.compile(r"(\bSERVICE\s+(?:SILENT\s+)?)<" + re.escape(iri) + ">", re.I)
        text, count = pattern.subn(lambda m, url=url: f"{m.group(1)}<{url}>", text)
        if not count:
            known = ", ".join(f"{k} ({v})" for k, v in SERVICE_ALIASES.items())
            raise QueryError(f"--service-endpoint {source}=...: {query.name} has no SERVICE <{iri}>. "
                             f"Give the IRI its SERVICE clause spells, or an alias: {known}")
    return CannedQuery(query.name, query.path, text, query.answers, query.params)


def term_text(term: object) -> str:
    if term is None:
        return ""
    return getattr(term, "value", str(term))


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def sparql_json_term(term: object) -> dict:
    """One RDF term in the SPARQL 1.1 JSON results format (also used by kg serve)."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (_XSD_STRING, _RDF_LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": sparql_json_term(term.subject),
                                            "predicate": sparql_json_term(term.predicate),
                                            "object": sparql_json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def render(result: QueryResult, fmt: str) -> str:
    """csv, tsv or json (SPARQL 1.1 JSON results); tables are drawn by the CLI."""
    if result.boolean is not None:
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": result.boolean})
        return "true" if result.boolean else "false"
    if result.triples:
        return ox.serialize(list(result.triples), format=ox.RdfFormat.TURTLE).decode("utf-8")
    if fmt == "json":
        bindings = [{v: sparql_json_term(t) for v, t in zip(result.variables, row, strict=True) if t is not None}
                    for row in result.rows]
        return json.dumps({"head": {"vars": list(result.variables)}, "results": {"bindings": bindings}},
                          ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerow(result.variables)
    for row in result.rows:
        cells = [term_text(t) for t in row]
        if fmt == "tsv":
            cells = [c.replace("\t", " ").replace("\n", " ") for c in cells]
        writer.writerow(cells)
    return out.getvalue()
