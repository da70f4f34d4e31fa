"""The user's own sample: what the first version must get right, and a golden snapshot of it."""

from __future__ import annotations

import json

from kg.ingest import iter_articles
from kg.model import to_json
from tests.conftest import ROOT, SEED

GOLDEN = ROOT / "tests" / "golden" / "seed-extraction.json"


def _seed(extractor):
    article = next(iter_articles([str(SEED)]))
    return to_json(extractor.extract(article))


def test_seed_entities(extractor):
    out = _seed(extractor)
    typed = {(e["label"], e["type"], e["subtype"]) for e in out["entities"]}
    assert {("S-300", "WeaponSystem", "SurfaceToAirMissileSystem"),
            ("S-400", "WeaponSystem", "SurfaceToAirMissileSystem"),
            ("Kursk Oblast", "Place", "Region"), ("Belgorod Oblast", "Place", "Region"),
            ("Russia", "Actor", "State"), ("Ukraine", "Actor", "State"), ("United States", "Actor", "State"),
            ("NATO", "Actor", "InternationalOrganization"), ("United Nations", "Actor", "InternationalOrganization"),
            ("European Union", "Actor", "InternationalOrganization"),
            ("Russian Air Defense Forces", "Actor", "ArmedForce")} <= typed
    ministry = [e for e in out["entities"] if e["subtype"] == "GovernmentBody"]
    assert len(ministry) == 1
    surfaces = {m["text"] for m in ministry[0]["mentions"]}
    assert {"Ministry of Defense of the Russian Federation", "Russian defense ministry"} <= surfaces
    ukraine = next(e for e in out["entities"] if e["label"] == "Ukraine")
    assert "Kyiv" in {m["text"] for m in ukraine["mentions"]}
    labels = {e["label"] for e in out["entities"]}
    assert not labels & {"Russia Intercepts", "Miami News"}


def test_seed_events(extractor):
    out = _seed(extractor)
    label = {e["id"]: e["label"] for e in out["entities"]}
    interception = next(e for e in out["events"] if e["type"] == "Interception")
    assert interception["count"] == 55 and label[interception["agent"]] == "Russian Air Defense Forces"
    deployment = next(e for e in out["events"] if e["type"] == "Deployment" and e["weapons"])
    assert {label[w] for w in deployment["weapons"]} == {"S-300", "S-400"}
    aid = next(e for e in out["events"] if e["type"] == "MilitaryAid")
    assert label[aid["agent"]] == "United States"


def test_seed_statements(extractor):
    out = _seed(extractor)
    label = {e["id"]: e["label"] for e in out["entities"]}
    said = {(label.get(s["speaker"]), s["stance"]) for s in out["statements"]}
    assert {("Ministry of Defence of Russia", "assert"), ("Russia", "accuse"), ("Ukraine", "deny"),
            ("NATO", "concern"), ("United Nations", "call"), ("European Union", "call")} <= said
    for s in out["statements"]:
        assert s["sentence"] and isinstance(s["hedged"], bool)


def test_seed_golden(extractor, update_golden):
    """The whole extraction of the sample; refresh with pytest --update-golden and read the diff."""
    out = _seed(extractor)
    out["article"]["path"] = "seeds/" + SEED.name
    if update_golden or not GOLDEN.exists():
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert out == json.loads(GOLDEN.read_text(encoding="utf-8"))
