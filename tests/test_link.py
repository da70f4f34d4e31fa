"""Linking: external ids from the catalogue, and places located with the offline GeoNames gazetteer."""

from __future__ import annotations

import re
from collections import Counter

import pyoxigraph as ox
import pytest

from kg import query as q
from kg.gazetteer import Gazetteer, GeoPlace, country_code, load_gazetteer, name_key
from kg.ingest import make_article
from kg.link import link
from kg.rdf import ENTITY_GRAPH, GEONAMES, ONTOLOGY_IRI, entity_iri, to_quads
from kg.store import GraphStore

RUSSIA = entity_iri("Actor", "russia")
UKRAINE = entity_iri("Actor", "ukraine")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.fixture
def linked(extractor, catalog, gazetteer):
    """Extract a short article written here and link it: returns the located entities by label."""
    def run(text: str):
        extraction = link(extractor.extract(make_article(text, path="<test>")), catalog, gazetteer)
        return extraction, {e.label: e for e in extraction.entities}
    return run


def _place(extraction, label_part: str):
    return next(e for e in extraction.entities if e.type == "Place" and label_part in e.label)


# --- places --------------------------------------------------------------------------------------


def test_link_region_word_makes_kursk_the_oblast(linked):
    extraction, _ = linked("Air defenses destroyed eight drones over the Kursk region overnight, Russia said.")
    kursk = _place(extraction, "Kursk")
    assert (kursk.label, kursk.subtype, kursk.geonames) == ("Kursk Oblast", "Region", "538555")
    assert kursk.country == RUSSIA


def test_link_uncatalogued_region_by_name_and_region_word(catalog, gazetteer):
    # Belgorod Oblast through the gazetteer alone, not through a catalogue entry.
    place = gazetteer.resolve("Belgorod region", "region", {"RU"})
    assert place is not None and (place.geonames, place.kind) == ("578071", "region")


@pytest.mark.parametrize("name, expected", [
    ("Hudaydah", "Al Ḩudaydah"), ("Al-Hudaydah", "Al Ḩudaydah"), ("Khan Yunis", "Khān Yūnis"),
])
def test_link_gazetteer_folds_diacritics_and_articles(gazetteer, name, expected):
    place = gazetteer.resolve(name, "city", ())
    assert place is not None and place.name == expected and place.kind == "city"


def test_link_uncatalogued_city_with_diacritics_in_context(linked):
    extraction, _ = linked("Ukrainian drones struck a fuel depot in Sudzha, Russia's defense ministry said.")
    sudzha = _place(extraction, "Sudzha")
    assert sudzha.geonames and sudzha.country == RUSSIA
    assert sudzha.region == entity_iri("Place", "kursk-oblast")


def test_link_odessa_in_an_article_about_ukraine_is_the_ukrainian_city(linked):
    extraction, _ = linked("Russian missiles hit the port of Odessa on Monday, Ukraine's air force said.")
    odessa = _place(extraction, "Odes")
    assert odessa.country == UKRAINE
    assert 46 < odessa.lat < 47 and 30 < odessa.lon < 31


def test_link_gazetteer_prefers_the_countries_of_the_article(gazetteer):
    ukrainian = gazetteer.resolve("Odessa", "city", {"UA"})
    texan = gazetteer.resolve("Odessa", "city", {"US"})
    assert ukrainian.country == "UA" and texan.country == "US"


def test_link_ambiguous_name_without_context_resolves_to_nothing():
    small = Gazetteer.from_places([
        (GeoPlace("1", "Ivanivka", "city", "UA", 47.0, 33.0, 3000), ()),
        (GeoPlace("2", "Ivanivka", "city", "UA", 48.0, 37.0, 2500), ()),
    ])
    assert small.resolve("Ivanivka", "city", {"UA"}) is None
    assert small.resolve("Ivanivka", "city", ()) is None


def test_link_region_needs_a_country_from_the_article(gazetteer):
    # Gaza Province of Mozambique must not be taken for the Gaza Strip.
    assert gazetteer.resolve("Gaza region", "region", {"IL"}) is None


def test_link_coordinates_present_and_in_range(linked):
    extraction, _ = linked("Missiles struck Kharkiv and Dnipro overnight, Ukraine's air force said.")
    places = [e for e in extraction.entities if e.type == "Place"]
    assert places
    for place in places:
        assert place.lat is not None and place.lon is not None, place.label
        assert -90 <= place.lat <= 90 and -180 <= place.lon <= 180


def test_link_country_and_region_are_described_entities(linked):
    extraction, _ = linked("Drones attacked Sudzha overnight.")
    sudzha = _place(extraction, "Sudzha")
    described = {e.id: e for e in extraction.entities}
    assert sudzha.country in described and described[sudzha.country].subtype == "State"
    assert sudzha.region in described and described[sudzha.region].geonames == "538555"
    assert not described[sudzha.region].mentions


def test_link_state_gets_its_geonames_country_id(linked):
    _, by_label = linked("Russia and Ukraine exchanged prisoners.")
    assert by_label["Russia"].geonames == "2017370" and by_label["Ukraine"].geonames == "690791"


def test_link_checked_catalogue_id_wins_over_the_gazetteer(catalog):
    wrong = Gazetteer.from_places([(GeoPlace("999", "Kyiv", "city", "UA", 1.0, 2.0, 10**7), ())])
    from kg.model import Article, Entity, Extraction, Mention
    kyiv = Entity(entity_iri("Place", "kyiv"), "Kyiv", "Place", "City", (Mention("Kyiv", 0, 4),))
    extraction = link(Extraction(Article(id="x", text="Kyiv"), entities=(kyiv,)), catalog, wrong)
    located = extraction.entities[0]
    assert located.geonames == "703448" and located.lat is None  # the checked id, not a wrong point


def test_link_is_idempotent(linked, catalog, gazetteer):
    extraction, _ = linked("Drones attacked Sudzha and the Belgorod region, Russia said.")
    assert link(extraction, catalog, gazetteer) == extraction


def test_link_state_keys_map_to_iso_codes(catalog, gazetteer):
    expected = {"russia": "RU", "ukraine": "UA", "united-states": "US", "united-kingdom": "GB", "iran": "IR",
                "yemen": "YE", "sudan": "SD", "mali": "ML", "north-korea": "KP", "taiwan": "TW", "kosovo": "XK",
                "palestine": "PS", "dr-congo": "CD"}
    got = {key: country_code((catalog.get(key).label, *catalog.get(key).aliases), gazetteer) for key in expected}
    assert got == expected


def test_link_name_key_folds():
    assert name_key("Al Ḩudaydah") == "al hudaydah"
    assert name_key("Khān Yūnis") == name_key("khan-yunis") == "khan yunis"
    assert name_key("Ma’rib") == "marib"


# --- RDF -------------------------------------------------------------------------------------------


def test_link_rdf_of_a_linked_place_has_wkt_geometry_and_same_as(linked):
    extraction, _ = linked("Air defenses destroyed eight drones over the Kursk region overnight, Russia said.")
    kursk = _place(extraction, "Kursk")
    _, shared = to_quads(extraction)
    store = ox.Store()
    store.extend(shared)
    node = f"<{kursk.id}>"
    rows = list(store.query(f"""
        PREFIX geo: <http://www.opengis.net/ont/geosparql#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        SELECT ?g ?wkt ?country WHERE {{ GRAPH <{ENTITY_GRAPH}> {{
          {node} geo:hasGeometry ?g ; owl:sameAs <{GEONAMES}538555/> ; kg:geonamesId "538555" ;
                 kg:country ?country .
          ?g a geo:Geometry ; geo:asWKT ?wkt . }} }}"""))
    assert len(rows) == 1
    geometry, wkt, country = rows[0]
    assert geometry.value == kursk.id + "/geometry"
    assert wkt.datatype.value == "http://www.opengis.net/ont/geosparql#wktLiteral"
    lon, lat = map(float, re.fullmatch(r"POINT\((\S+) (\S+)\)", wkt.value).groups())
    assert (lon, lat) == (kursk.lon, kursk.lat)
    assert country.value == RUSSIA


def test_link_query_lists_interceptions_in_regions_of_a_country(tmp_path, extractor):
    store = GraphStore(tmp_path / "store")
    reports = [
        ("Russian air defenses shot down 14 drones over the Belgorod region overnight, the ministry said.", "a"),
        ("Ukraine's air force said it shot down 20 drones over the Kyiv region.", "b"),
        ("Ukrainian drones struck an oil depot in Sudzha, Russia said.", "c"),
    ]
    for text, key in reports:
        store.replace_article(extractor.extract(make_article(text, title=key, url=f"https://example.org/{key}")))
    query = q.canned_queries()["interceptions-in-border-regions"]

    def rows(values):
        result = q.run(store, query, values)
        return [dict(zip(result.variables, (q.term_text(t) for t in row), strict=True)) for row in result.rows]

    russian = rows({"country": "Russia"})
    assert [(r["region"], r["count"]) for r in russian] == [("Belgorod Oblast", "14")]
    assert {r["region"] for r in rows({})} == {"Belgorod Oblast", "Kyiv Oblast"}
    attacks = rows({"country": "russia", "type": "Attack"})
    assert attacks and {r["place"] for r in attacks} == {"Sudzha"}
    assert attacks[0]["region"] == "Kursk Oblast"


# --- the catalogue's ids ------------------------------------------------------------------------


def test_link_catalogue_wikidata_ids_are_well_formed_unique_and_known(catalog):
    ids = {key: e.wikidata for key, e in catalog.entries.items() if e.wikidata}
    assert all(re.fullmatch(r"Q[1-9]\d*", qid) for qid in ids.values())
    shared = {qid: n for qid, n in Counter(ids.values()).items() if n > 1}
    assert not shared
    known = {"russia": "Q159", "ukraine": "Q212", "nato": "Q7184", "united-nations": "Q1065",
             "european-union": "Q458", "kyiv": "Q1899", "crimea": "Q7835", "red-sea": "Q23406",
             "gaza-strip": "Q39760", "taiwan": "Q865", "north-korea": "Q423"}
    assert {key: ids.get(key) for key in known} == known


def test_link_seas_carry_a_representative_point_and_checked_geonames_id(linked):
    extraction, _ = linked("Houthi forces fired two anti-ship missiles at a tanker in the Red Sea on Monday, "
                           "and a second vessel was struck near the Bab el-Mandeb strait.")
    red_sea = _place(extraction, "Red Sea")
    assert red_sea.subtype == "WaterBody" and red_sea.geonames == "350155"
    assert 12 < red_sea.lat < 30 and 32 < red_sea.lon < 44      # inside the sea's bounding box
    strait = _place(extraction, "Bab el-Mandeb")
    assert strait.geonames is None and strait.lat is not None  # unchecked id: a point, no id


def test_link_rivers_get_no_point(linked):
    extraction, _ = linked("Ukrainian troops crossed the Dnipro River near Kherson overnight, the army said.")
    river = _place(extraction, "Dnipro")
    assert river.lat is None and river.lon is None


def test_gazetteer_cache_is_written_read_back_and_survives_corruption(tmp_path):
    from kg.gazetteer import cached_gazetteer

    path = tmp_path / "cache" / "gazetteer.pickle"
    built = cached_gazetteer(path)               # builds and writes
    assert path.stat().st_size > 1_000_000
    again = cached_gazetteer(path)               # reads
    assert again is not built and again.places.keys() == built.places.keys()
    assert again.resolve("Kharkiv", countries=["UA"]).geonames == built.resolve("Kharkiv", countries=["UA"]).geonames
    path.write_bytes(path.read_bytes()[:1000])    # truncated: rebuilt and rewritten, not an error
    rebuilt = cached_gazetteer(path)
    assert len(rebuilt.places) == len(built.places) and path.stat().st_size > 1_000_000
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".gazetteer-")]


def test_link_weapon_origin_and_nato_name_come_from_the_catalogue(linked):
    extraction, by_label = linked("Syria's army said its air defences downed four Israeli missiles with "
                                  "Pantsir batteries near Damascus on Sunday.")
    pantsir = next(e for e in extraction.entities if e.type == "WeaponSystem" and "Pantsir" in e.label)
    assert pantsir.origin == RUSSIA and pantsir.nato_name
    russia = next(e for e in extraction.entities if e.id == RUSSIA)
    assert not russia.mentions and russia.label == "Russia"     # described, though the text never names it
    article_quads, entity_quads = to_quads(extraction)
    origin = ox.NamedNode(ONTOLOGY_IRI + "origin")
    assert any(q.subject.value == pantsir.id and q.predicate == origin and q.object.value == RUSSIA
               for q in entity_quads)
    assert any(q.subject.value == RUSSIA and q.predicate.value.endswith("#label") for q in entity_quads)
