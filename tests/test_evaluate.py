"""kg eval: the matching rules on a hand-made gold file, and a run on ../shared/eval-dev."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kg.evaluate import evaluate, score_article
from kg.ingest import make_article
from tests.conftest import EVAL_DEV

TEXT = "Ukraine said it shot down 12 Russian drones over the Kharkiv region. Moscow denied the claim."


def _gold(**overrides):
    gold = {
        "entities": [
            {"label": "Ukraine", "type": "Actor", "subtype": "State", "wikidata": "Q212", "surface": ["Ukraine"]},
            {"label": "Russia", "type": "Actor", "subtype": "State", "wikidata": "Q159", "surface": ["Moscow"]},
            {"label": "Ghost Battalion", "type": "Actor", "subtype": "NonStateArmedGroup", "wikidata": None,
             "surface": ["Ghost Battalion"]},
        ],
        "events": [{"type": "Interception", "agent": "Ukraine", "target": "Russia", "weapons": [],
                    "places": ["Kharkiv Oblast"], "count": 12,
                    "sentence": "Ukraine said it shot down 12 Russian drones over the Kharkiv region."}],
        "statements": [
            {"speaker": "Ukraine", "stance": "assert", "hedged": False,
             "sentence": "Ukraine said it shot down 12 Russian drones over the Kharkiv region."},
            {"speaker": "Russia", "stance": "deny", "hedged": False, "sentence": "Moscow denied the claim."},
        ],
    }
    gold.update(overrides)
    return gold


def test_evaluate_matching_rules(extractor):
    extraction = extractor.extract(make_article(TEXT, path="<test>"))
    score = score_article(extraction, _gold(), "t")
    entities = score.layers["entities"]
    assert entities.gold == 3 and entities.tp == 2          # the invented group is a miss
    assert any("Ghost Battalion" in m for m in score.misses["entities"])
    assert score.accuracy["wikidata"].total == 2 and score.accuracy["wikidata"].right == 2
    assert score.layers["events"].tp == 1
    assert score.layers["statements"].tp == 2
    assert score.accuracy["stance"].right == 2


def test_evaluate_wrong_stance_is_counted(extractor):
    extraction = extractor.extract(make_article(TEXT, path="<test>"))
    gold = _gold()
    gold["statements"][1]["stance"] = "accuse"
    score = score_article(extraction, gold, "t")
    assert score.accuracy["stance"].right == 1 and score.accuracy["stance"].total == 2


def test_evaluate_directory_and_json(tmp_path, extractor):
    (tmp_path / "01-test.txt").write_text("Title: Drones downed\nSource: Test\nPublished: 2024-05-02\n\n" + TEXT,
                                          encoding="utf-8")
    (tmp_path / "01-test.gold.json").write_text(json.dumps(_gold()), encoding="utf-8")
    report = evaluate(tmp_path, extractor)
    out = report.to_json()
    assert out["layers"]["statements"]["recall"] == 1.0
    assert out["articles"][0]["name"] == "01-test"


@pytest.mark.skipif(not EVAL_DEV.is_dir(), reason="../shared/eval-dev is not beside the repository")
def test_evaluate_runs_on_eval_dev(extractor):
    report = evaluate(EVAL_DEV, extractor)
    out = report.to_json()
    assert len(out["articles"]) == len(list(EVAL_DEV.glob("*.gold.json")))
    for layer in out["layers"].values():
        assert 0.0 <= layer["f1"] <= 1.0 and layer["gold"] > 0
    # A floor well below the targets: a collapse of any layer fails the build.
    assert out["layers"]["typed_entities"]["f1"] > 0.7
    assert out["layers"]["statements"]["f1"] > 0.7


def test_evaluate_place_linking_counts_matched_gold_places_with_id_and_point(extractor):
    extraction = extractor.extract(make_article(TEXT, path="<test>"))
    place = {"label": "Kharkiv Oblast", "type": "Place", "subtype": "Region", "wikidata": None,
             "surface": ["Kharkiv region"]}
    score = score_article(extraction, _gold(entities=[*_gold()["entities"], place]), "t")
    assert (score.accuracy["place_geo"].right, score.accuracy["place_geo"].total) == (1, 1)
    # Without the gazetteer's answer the same place counts as a miss, with a reason.
    bare = replace(extraction, entities=tuple(replace(e, lat=None, lon=None) for e in extraction.entities))
    score = score_article(bare, _gold(entities=[*_gold()["entities"], place]), "t")
    assert score.accuracy["place_geo"].right == 0 and "Kharkiv Oblast" in score.misses["place_geo"][0]
