"""The ontology declares every term kg writes, and the SHACL shapes accept what to_quads writes
and reject what a broken mapping would write."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Dataset, Graph, Literal, Namespace, URIRef

from kg import ONTOLOGY_DIR
from kg.errors import OntologyError
from kg.model import (
    EVENT_TYPES,
    STANCES,
    SUBTYPES,
    Article,
    Entity,
    Event,
    Extraction,
    Mention,
    Quantity,
    Statement,
    TimeExpression,
)
from kg.rdf import (
    ID,
    ONTOLOGY_IRI,
    article_iri,
    class_for,
    entity_iri,
    stance_iri,
    to_quads,
    vocabulary_terms,
)
from kg.validate import validate_graph

# rdflib's own N-Quads parser still calls Dataset.default_context; nothing here can change that.
pytestmark = pytest.mark.filterwarnings("ignore:Dataset.default_context:DeprecationWarning")

KG = Namespace(ONTOLOGY_IRI)
ONTOLOGY_PATH = ONTOLOGY_DIR / "conflict.ttl"
SHAPES_PATH = ONTOLOGY_DIR / "shapes.ttl"
DECLARATIONS = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual,
                SKOS.Concept, SKOS.ConceptScheme}

HEADLINE = "Russia says S-400 systems downed 55 Ukrainian drones over Kursk"
BODY = ("Russian air defenses using S-400 systems intercepted at least 55 Ukrainian drones over the "
        "Kursk region overnight, the Russian Defense Ministry said on Tuesday. "
        "Ukraine denied the claim. "
        "The drones reportedly targeted a power station, according to local officials.")
TEXT = f"{HEADLINE}\n\n{BODY}"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_PATH)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_PATH)


def _span(text: str, after: int = 0) -> Mention:
    start = TEXT.index(text, after)
    return Mention(text, start, start + len(text))


def _extraction(wikidata: str = "Q159") -> Extraction:
    """One article with every kind of node to_quads writes: entities, an event, statements."""
    article = Article(id="https://example.org/news/kursk-drones", text=TEXT, title=HEADLINE,
                      source="Example News", url="https://example.org/news/kursk-drones",
                      published="2024-08-06", path="seeds/kursk.txt")
    art = article_iri(article)
    headline = _span(HEADLINE)
    first, denial, hedged = (_span(s) for s in (
        BODY.split(". ")[0] + ".", "Ukraine denied the claim.",
        "The drones reportedly targeted a power station, according to local officials."))
    sentences = (headline, first, denial, hedged)

    russia = entity_iri("Actor", "russia")
    ukraine = entity_iri("Actor", "ukraine")
    air_defense = entity_iri("Actor", "russia/air-defense")
    ministry = entity_iri("Actor", "russia/defense-ministry")
    s400 = entity_iri("WeaponSystem", "s-400")
    kursk = entity_iri("Place", "kursk-oblast")
    entities = (
        Entity(russia, "Russia", "Actor", "State", (_span("Russia"),), wikidata=wikidata,
               aliases=("Russian Federation",)),
        Entity(ukraine, "Ukraine", "Actor", "State", (_span("Ukraine", first.end),), wikidata="Q212"),
        Entity(air_defense, "Russian Air Defense Forces", "Actor", "ArmedForce",
               (_span("Russian air defenses"),)),
        Entity(ministry, "Russian Defense Ministry", "Actor", "GovernmentBody",
               (_span("Russian Defense Ministry"),)),
        Entity(s400, "S-400", "WeaponSystem", "SurfaceToAirMissileSystem",
               (_span("S-400"), _span("S-400", first.start))),
        Entity(kursk, "Kursk Oblast", "Place", "Region", (_span("Kursk region"),), geonames="538555"),
    )
    event = Event(id=f"{art}/event/1", type="Interception", sentence=headline, trigger="downed",
                  agent=air_defense, target=ukraine, weapons=(s400,), places=(kursk,),
                  quantity=Quantity(55, "at_least", "at least 55"),
                  time=TimeExpression("overnight", "2024-08-05/2024-08-06", "interval"),
                  evidence=(headline, first))
    statements = (
        Statement(id=f"{art}/statement/1", sentence=first, verb="say", stance="assert",
                  speaker=ministry, content="air defenses intercepted at least 55 Ukrainian drones",
                  about=(event.id,)),
        Statement(id=f"{art}/statement/2", sentence=denial, verb="deny", stance="deny",
                  speaker=ukraine, content="the claim", about=(event.id,)),
        Statement(id=f"{art}/statement/3", sentence=hedged, verb="according to", stance="assert",
                  speaker_text="local officials", hedged=True, hedges=("reportedly", "according to"),
                  content="The drones targeted a power station"),
    )
    return Extraction(article=article, entities=entities, events=(event,), statements=statements,
                      sentences=sentences)


def _dataset(extraction: Extraction) -> Dataset:
    """Article and entity graphs as the store holds them, moved to rdflib through N-Quads."""
    article_quads, entity_quads = to_quads(extraction)
    data = ox.serialize(article_quads + entity_quads, format=ox.RdfFormat.N_QUADS)
    dataset = Dataset()
    dataset.parse(data=data.decode("utf-8"), format="nquads")
    return dataset


def _union(dataset: Dataset) -> Graph:
    union = Graph()
    for graph in dataset.graphs():
        union += graph
    return union


@pytest.fixture()
def graph() -> Graph:
    return _union(_dataset(_extraction()))


def _kg_terms(graph: Graph) -> set[URIRef]:
    """Every IRI of our namespace used anywhere in a graph (subjects, predicates, objects, lists)."""
    return {term for triple in graph for term in triple
            if isinstance(term, URIRef) and term.startswith(ONTOLOGY_IRI)}


def _declared(ontology: Graph) -> set[URIRef]:
    return {s for s, o in ontology.subject_objects(RDF.type)
            if o in DECLARATIONS and isinstance(s, URIRef) and s.startswith(ONTOLOGY_IRI)}


def _reasons(report) -> set[tuple[str, str | None]]:
    return {(r.focus, r.path) for r in report.violations}


# --- the ontology -------------------------------------------------------------------------------


def test_ontology_is_an_owl_ontology_with_label_comment_and_version(ontology):
    (node,) = ontology.subjects(RDF.type, OWL.Ontology)
    assert ontology.value(node, RDFS.label)
    assert ontology.value(node, RDFS.comment)
    assert ontology.value(node, OWL.versionInfo)


def test_ontology_declares_every_vocabulary_term_with_english_label_and_comment(ontology):
    problems = []
    declared = _declared(ontology)
    for term in map(URIRef, vocabulary_terms()):
        if term not in declared:
            problems.append(f"{term}: not declared as a class, property, individual or scheme")
        for prop in (RDFS.label, RDFS.comment):
            if not any(isinstance(v, Literal) and v.language == "en" and str(v).strip()
                       for v in ontology.objects(term, prop)):
                problems.append(f"{term}: no English {prop.n3(ontology.namespace_manager)}")
    assert not problems, "\n".join(problems)


def test_ontology_declares_nothing_that_rdf_py_does_not_know(ontology):
    # A term only in the ontology is either dead or spelled in code outside kg/rdf.py.
    assert _declared(ontology) - set(map(URIRef, vocabulary_terms())) == set()


def test_ontology_closed_vocabularies_match_the_model(ontology):
    events = set(ontology.transitive_subjects(RDFS.subClassOf, KG.Event)) - {KG.Event}
    assert events == {KG[t] for t in EVENT_TYPES}
    for type_, subtypes in SUBTYPES.items():
        classes = set(ontology.subjects(RDFS.subClassOf, KG[type_]))
        assert classes == {KG[class_for(type_, s)] for s in subtypes}, type_
    stances = set(ontology.subjects(SKOS.inScheme, KG.StanceScheme))
    assert stances == {URIRef(stance_iri(s)) for s in STANCES}
    for stance in stances:
        assert (stance, RDF.type, KG.Stance) in ontology
        assert (stance, RDF.type, SKOS.Concept) in ontology
        assert ontology.value(stance, SKOS.prefLabel)
        assert ontology.value(stance, SKOS.definition)


def test_ontology_declares_every_kg_term_the_shapes_use(ontology, shapes):
    undeclared = _kg_terms(shapes) - _declared(ontology)
    assert not undeclared, sorted(undeclared)


def test_ontology_declares_every_kg_term_to_quads_writes(ontology, graph):
    assert _kg_terms(graph) - _declared(ontology) == set()


# --- validation of what to_quads writes -----------------------------------------------------------


def test_validate_to_quads_output_conforms(graph):
    report = validate_graph(graph)
    assert report.conforms, report.text
    assert report.results == ()


def test_validate_dataset_is_validated_as_the_union_of_its_graphs():
    # Mentions (article graph) point at entities typed only in the entity graph.
    report = validate_graph(_dataset(_extraction()))
    assert report.conforms, report.text


def test_validate_with_ontology_mixed_in_conforms(graph):
    report = validate_graph(graph, ontology_path=ONTOLOGY_PATH)
    assert report.conforms, report.text


def test_validate_event_without_evidence_does_not_conform(graph):
    event = next(graph.subjects(RDF.type, KG.Event))
    graph.remove((event, KG.evidence, None))
    report = validate_graph(graph)
    assert not report.conforms
    assert (str(event), str(KG.evidence)) in _reasons(report)


def test_validate_event_with_two_event_types_does_not_conform(graph):
    event = next(graph.subjects(RDF.type, KG.Event))
    graph.add((event, RDF.type, KG.Attack))
    report = validate_graph(graph)
    assert (str(event), str(RDF.type)) in _reasons(report)
    assert any("exactly one event type" in r.message for r in report.violations)


def test_validate_event_with_negative_count_does_not_conform(graph):
    event = next(graph.subjects(RDF.type, KG.Event))
    graph.set((event, KG["count"], Literal(-3)))
    assert (str(event), str(KG["count"])) in _reasons(validate_graph(graph))


def test_validate_statement_with_unknown_stance_does_not_conform(graph):
    statement = URIRef(next(iter(graph.subjects(KG.stance, KG["assert"]))))
    graph.set((statement, KG.stance, KG.maybe))
    report = validate_graph(graph)
    assert not report.conforms
    (result,) = [r for r in report.violations if r.path == str(KG.stance)]
    assert result.focus == str(statement)
    assert result.value == str(KG.maybe)


def test_validate_statement_with_two_hedged_values_does_not_conform(graph):
    statement = next(graph.subjects(RDF.type, KG.Statement))
    graph.add((statement, KG.hedged, Literal(not graph.value(statement, KG.hedged).toPython())))
    report = validate_graph(graph)
    assert not report.conforms
    assert (str(statement), str(KG.hedged)) in _reasons(report)


def test_validate_sentence_without_article_does_not_conform(graph):
    sentence = next(graph.subjects(RDF.type, KG.Sentence))
    graph.remove((sentence, KG.inArticle, None))
    report = validate_graph(graph)
    assert not report.conforms
    assert (str(sentence), str(KG.inArticle)) in _reasons(report)


def test_validate_sentence_with_end_before_start_does_not_conform(graph):
    sentence = next(graph.subjects(RDF.type, KG.Sentence))
    graph.set((sentence, KG.end, Literal(0)))
    assert (str(sentence), str(KG.start)) in _reasons(validate_graph(graph))


def test_validate_entity_with_malformed_wikidata_id_does_not_conform():
    graph = _union(_dataset(_extraction(wikidata="Q0159")))
    report = validate_graph(graph)
    assert not report.conforms
    (result,) = report.violations
    assert (result.focus, result.path, result.value) == (entity_iri("Actor", "russia"),
                                                         str(KG.wikidataId), "Q0159")
    assert "Q followed by digits" in result.message


def test_validate_entity_with_two_labels_does_not_conform(graph):
    # Two labels for one IRI is what case variants of an uncatalogued name would produce.
    russia = URIRef(entity_iri("Actor", "russia"))
    graph.add((russia, SKOS.prefLabel, Literal("russia", lang="en")))
    assert (str(russia), str(SKOS.prefLabel)) in _reasons(validate_graph(graph))


def test_validate_mention_of_undescribed_entity_does_not_conform(graph):
    mention = next(graph.subjects(RDF.type, KG.Mention))
    graph.set((mention, KG.refersTo, URIRef(ID + "actor/nobody")))
    assert (str(mention), str(KG.refersTo)) in _reasons(validate_graph(graph))


def test_validate_article_without_content_hash_does_not_conform(graph):
    article = next(graph.subjects(KG.contentHash, None))
    graph.remove((article, KG.contentHash, None))
    assert (str(article), str(KG.contentHash)) in _reasons(validate_graph(graph))


def test_validate_weapon_that_is_not_a_weapon_system_is_a_warning_only(graph):
    event = next(graph.subjects(RDF.type, KG.Event))
    graph.add((event, KG.weapon, URIRef(entity_iri("Actor", "russia"))))
    report = validate_graph(graph)
    assert report.conforms, report.text
    assert [(r.focus, r.path) for r in report.warnings] == [(str(event), str(KG.weapon))]


# --- loading the shapes -----------------------------------------------------------------------------


def test_validate_missing_shapes_file_raises_ontology_error(graph, tmp_path: Path):
    missing = tmp_path / "shapes.ttl"
    with pytest.raises(OntologyError, match="not found") as err:
        validate_graph(graph, shapes_path=missing)
    assert str(missing) in str(err.value)


def test_validate_malformed_shapes_file_raises_ontology_error(graph, tmp_path: Path):
    broken = tmp_path / "shapes.ttl"
    broken.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\nthis is not turtle\n")
    with pytest.raises(OntologyError, match="does not parse") as err:
        validate_graph(graph, shapes_path=broken)
    assert str(broken) in str(err.value)


def test_validate_malformed_ontology_file_raises_ontology_error(graph, tmp_path: Path):
    broken = tmp_path / "conflict.ttl"
    broken.write_text("kg:Event a owl:Class")
    with pytest.raises(OntologyError, match="ontology file does not parse"):
        validate_graph(graph, ontology_path=broken)
