"""Check written graphs against ontologies/shapes.ttl (SHACL), so a broken mapping fails loudly.

Validation runs on the union of all named graphs: a mention lives in its article's graph but the
entity it refers to is typed in the shared entity graph, so no graph is valid on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyshacl
from rdflib import Graph, Literal, Node, URIRef
from rdflib.namespace import RDF, SH
from rdflib.util import guess_format

from kg import ONTOLOGY_DIR
from kg.errors import OntologyError

SHAPES_PATH = ONTOLOGY_DIR / "shapes.ttl"
ONTOLOGY_PATH = ONTOLOGY_DIR / "conflict.ttl"

# Violations first: they are what makes a graph not conform.
_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One SHACL result: which node, along which property, what is wrong, and how bad."""

    focus: str
    path: str | None        # the property IRI; None for node-level constraints
    message: str
    severity: str           # "Violation", "Warning" or "Info"
    value: str | None = None
    shape: str | None = None  # the shape's IRI when it has one (property shapes are blank nodes)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome: ``conforms`` is False only for violations; warnings are reported alongside."""

    conforms: bool
    results: tuple[ValidationResult, ...]
    text: str

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Warning")


def validate_graph(graph: Graph, shapes_path: Path | None = None,
                   ontology_path: Path | None = None) -> ValidationReport:
    """Validate ``graph`` (a Graph, or a Dataset whose graphs are united) against the SHACL shapes.

    Inference is "none": to_quads writes every rdf:type the shapes need, and RDFS inference over a
    whole store costs more than the validation. Pass ``ontology_path`` to mix the ontology into the
    data (its rdfs:subClassOf then count for sh:class), for data written by other tools.
    Warnings (well-formed but probably mis-extracted data) do not make the graph non-conforming.
    """
    shapes = load_rdf(shapes_path or SHAPES_PATH, "SHACL shapes")
    ontology = load_rdf(ontology_path, "ontology") if ontology_path is not None else None
    conforms, report_graph, text = pyshacl.validate(
        _union(graph), shacl_graph=shapes, ont_graph=ontology, inference="none",
        allow_warnings=True, advanced=False,
    )
    return ValidationReport(conforms=bool(conforms), results=_results(report_graph), text=str(text))


def load_rdf(path: Path, what: str) -> Graph:
    """Parse an ontology or shapes file, turning a missing or malformed file into an OntologyError."""
    path = Path(path)
    if not path.is_file():
        raise OntologyError(
            f"{path}: {what} file not found. Restore it from the repository "
            f"(git checkout -- {path}) or pass the path of an existing file."
        )
    graph = Graph()
    try:
        graph.parse(path, format=guess_format(str(path)) or "turtle")
    except Exception as err:  # rdflib raises parser-specific types (BadSyntax, SAXParseException, ...)
        raise OntologyError(
            f"{path}: {what} file does not parse ({type(err).__name__}: {err}). "
            f"Fix the syntax (rdfpipe {path} shows the first error) or restore the file from git."
        ) from err
    return graph


def _union(graph: Graph) -> Graph:
    """One plain Graph holding the triples of every named graph of a Dataset/ConjunctiveGraph.

    Older pyshacl versions validate each named graph of a dataset separately, which would
    report every mention as pointing at an undescribed entity; a plain union behaves the same on all.
    """
    if not getattr(graph, "context_aware", False):
        return graph
    union = Graph()
    for s, p, o, _ in graph.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


def _results(report: Graph) -> tuple[ValidationResult, ...]:
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(node, SH.resultSeverity)
        path = report.value(node, SH.resultPath)
        shape = report.value(node, SH.sourceShape)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        results.append(ValidationResult(
            focus=str(report.value(node, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else None,
            message=" / ".join(messages),
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            value=_term(report.value(node, SH.value)),
            shape=str(shape) if isinstance(shape, URIRef) else None,
        ))
    results.sort(key=lambda r: (_SEVERITY_ORDER.get(r.severity, 3), r.focus, r.path or "", r.message))
    return tuple(results)


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node) if isinstance(node, (URIRef, Literal)) else node.n3()
