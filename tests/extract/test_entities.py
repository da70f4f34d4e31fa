"""Entities: catalogue over the model, metonymy, regions, acronyms, surnames, short references."""

from __future__ import annotations


def _by_label(extraction):
    return {e.label: e for e in extraction.entities}


def test_entities_catalogue_beats_model_labels(extract_text):
    ex, _ = extract_text("Explosions were heard over the Kursk and Belgorod regions as S-400 batteries fired.")
    entities = _by_label(ex)
    assert entities["Kursk Oblast"].subtype == "Region"
    assert entities["Belgorod Oblast"].subtype == "Region"
    assert entities["S-400"].type == "WeaponSystem"
    assert entities["S-400"].subtype == "SurfaceToAirMissileSystem"


def test_entities_spelling_variants_are_one_system(extract_text):
    ex, _ = extract_text("The S400 was moved north. Officials said the S-400 battery was hit.")
    s400 = [e for e in ex.entities if e.type == "WeaponSystem"]
    assert len(s400) == 1 and {m.text for m in s400[0].mentions} == {"S400", "S-400"}


def test_entities_capital_acting_is_the_state(extract_text):
    ex, _ = extract_text("Kyiv denied the report. Air raid sirens sounded in Kyiv on Monday.")
    entities = _by_label(ex)
    assert "Kyiv" in {m.text for m in entities["Ukraine"].mentions}
    assert entities["Kyiv"].type == "Place" and entities["Kyiv"].subtype == "City"


def test_entities_demonym_institutions_resolve(extract_text):
    ex, _ = extract_text("The Russian defense ministry said the Ministry of Defense of the Russian Federation "
                         "had no comment.")
    ministries = [e for e in ex.entities if e.subtype == "GovernmentBody"]
    assert len(ministries) == 1
    assert {m.text for m in ministries[0].mentions} >= {"Russian defense ministry",
                                                         "Ministry of Defense of the Russian Federation"}


def test_entities_short_reference_to_earlier_body(extract_text):
    ex, _ = extract_text("NATO held talks in Brussels. The alliance said it was watching closely.")
    nato = _by_label(ex)["NATO"]
    assert {"NATO", "alliance"} <= {m.text for m in nato.mentions}


def test_entities_acronym_defined_in_text(extract_text):
    ex, _ = extract_text("Fighters of the Popular Defence Brigades (PDB) attacked a convoy. "
                         "The PDB later withdrew.")
    group = next(e for e in ex.entities if "PDB" in {m.text for m in e.mentions})
    assert len(group.mentions) >= 2


def test_entities_demonym_modifier_is_not_an_actor(extract_text):
    ex, _ = extract_text("Jets struck suspected Ukrainian military installations near the border.")
    assert not any(e.subtype == "ArmedForce" for e in ex.entities)


def test_entities_mentions_have_offsets_into_text(extract_text):
    ex, _ = extract_text("NATO and the European Union urged restraint.")
    for entity in ex.entities:
        for m in entity.mentions:
            assert ex.article.text[m.start:m.end] == m.text


def test_entities_checked_wikidata_ids_only(extract_text):
    ex, _ = extract_text("Russia and Ukraine traded accusations.")
    entities = _by_label(ex)
    assert entities["Russia"].wikidata == "Q159" and entities["Ukraine"].wikidata == "Q212"


def test_entities_titles_are_not_part_of_a_name(extract_text):
    ex, _ = extract_text("Spokesman Brig. Gen. Ahmed Rahimi said the unit had withdrawn.")
    people = [e.label for e in ex.entities if e.subtype == "Person"]
    assert people == ["Ahmed Rahimi"]


def test_entities_named_facility(extract_text):
    ex, _ = extract_text("Drones struck the Khmeimim Air Base overnight, officials said.")
    assert any(e.subtype == "Facility" and "Air Base" in e.label for e in ex.entities)


def test_entities_leading_article_is_not_part_of_the_mention(extract_text):
    ex, _ = extract_text("Aid from the United States arrived on Monday.")
    us = next(e for e in ex.entities if e.label == "United States")
    assert [m.text for m in us.mentions] == ["United States"]
