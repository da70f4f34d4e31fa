"""Scoring extraction against hand-made gold annotations (``kg eval DIR``); see MATCHING_RULES."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kg.catalog import fold
from kg.errors import InputError, UsageError
from kg.ingest import iter_articles
from kg.model import Extraction


@dataclass
class Counts:
    """True positives, predictions and gold items of one layer; P/R/F1 derived."""

    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.predicted += other.predicted
        self.gold += other.gold

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Accuracy:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += int(ok)
        self.total += 1

    def merge(self, other: Accuracy) -> None:
        self.right += other.right
        self.total += other.total

    @property
    def value(self) -> float:
        return self.right / self.total if self.total else 0.0


MATCHING_RULES = """\
- entities: an extracted entity with mentions matches a gold entity when one of its surface forms,
  or its label, equals one of the gold surfaces or the gold label (case- and accent-insensitive);
  one-to-one, greedy in gold order. Typed: the match also has the same type. Subtype and Wikidata
  accuracy are measured over matched pairs (Wikidata only where gold has an id). Place linking
  (place_geo) is the share of matched gold places whose entity has a GeoNames id and coordinates.
- events: same type and the extracted event's evidence overlaps the gold sentence; one-to-one.
- event arguments: over matched events, each (role, value) of agent, target, weapons, places and
  count is an item; entity values compare by gold label through the entity matching.
- statements: the statement's sentence overlaps the gold sentence; one-to-one, preferring the same
  speaker. Speaker, stance and hedging accuracy are measured over matched pairs.
"""

LAYERS = ("entities", "typed_entities", "events", "event_arguments", "statements")
ACCURACIES = ("subtype", "wikidata", "place_geo", "speaker", "stance", "hedged")


@dataclass
class ArticleScore:
    name: str
    layers: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in LAYERS})
    accuracy: dict[str, Accuracy] = field(default_factory=lambda: {k: Accuracy() for k in ACCURACIES})
    misses: dict[str, list[str]] = field(default_factory=dict)
    spurious: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _span_of(text: str, sentence: str) -> tuple[int, int] | None:
    start = text.find(sentence)
    return (start, start + len(sentence)) if start >= 0 else None


def _overlaps(a: tuple[int, int] | None, b: tuple[int, int]) -> bool:
    return a is not None and a[0] < b[1] and b[0] < a[1]


def _match_entities(extraction: Extraction, gold: list[dict], score: ArticleScore) -> dict[str, str]:
    """Entity IRI -> gold label for matched entities."""
    predicted = [e for e in extraction.entities if e.mentions]
    free = {e.id: e for e in predicted}
    mapping: dict[str, str] = {}
    ent, typed = score.layers["entities"], score.layers["typed_entities"]
    ent.predicted = typed.predicted = len(predicted)
    ent.gold = typed.gold = len(gold)
    for g in gold:
        names = {fold(s) for s in g.get("surface", [])} | {fold(g["label"])}
        best = None
        for e in free.values():
            surfaces = {fold(m.text) for m in e.mentions} | {fold(e.label)}
            if surfaces & names:
                best = e if best is None or (e.type == g["type"] and best.type != g["type"]) else best
        if best is None:
            score.misses.setdefault("entities", []).append(f"{g['label']} ({g['type']}/{g['subtype']})")
            continue
        del free[best.id]
        mapping[best.id] = g["label"]
        ent.tp += 1
        if best.type == g["type"]:
            typed.tp += 1
        else:
            score.misses.setdefault("typed_entities", []).append(f"{g['label']}: {best.type} for {g['type']}")
        score.accuracy["subtype"].add(best.subtype == g["subtype"])
        if best.subtype != g["subtype"]:
            score.misses.setdefault("subtype", []).append(f"{g['label']}: {best.subtype} for {g['subtype']}")
        if g["type"] == "Place":
            located = best.type in {"Place", "Actor"} and bool(best.geonames) and best.lat is not None
            score.accuracy["place_geo"].add(located)
            if not located:
                score.misses.setdefault("place_geo", []).append(
                    f"{g['label']}: geonames {best.geonames}, coordinates {best.lat, best.lon}")
        if g.get("wikidata"):
            score.accuracy["wikidata"].add(best.wikidata == g["wikidata"])
            if best.wikidata != g["wikidata"]:
                score.misses.setdefault("wikidata", []).append(f"{g['label']}: {best.wikidata} for {g['wikidata']}")
    score.spurious["entities"] = [f"{e.label} ({e.type}/{e.subtype})" for e in free.values()]
    return mapping


def _name(iri: str | None, mapping: dict[str, str], labels: dict[str, str]) -> str | None:
    if iri is None:
        return None
    return mapping.get(iri, labels.get(iri, iri))


def _argument_items(values: dict) -> set[tuple[str, str]]:
    items = set()
    for role in ("agent", "target"):
        if values.get(role):
            items.add((role, fold(values[role])))
    for role in ("weapons", "places"):
        for v in values.get(role) or []:
            items.add((role, fold(v)))
    if values.get("count") is not None:
        items.add(("count", str(values["count"])))
    return items


def _match_events(extraction: Extraction, gold: list[dict], mapping: dict[str, str], labels: dict[str, str],
                  score: ArticleScore) -> None:
    text = extraction.article.text
    free = list(extraction.events)
    layer, args = score.layers["events"], score.layers["event_arguments"]
    layer.predicted, layer.gold = len(free), len(gold)
    for g in gold:
        span = _span_of(text, g["sentence"])
        candidates = [e for e in free if e.type == g["type"]
                      and any(_overlaps((m.start, m.end), span) for m in e.evidence or (e.sentence,))] if span else []
        if not candidates:
            score.misses.setdefault("events", []).append(f"{g['type']}: {g['sentence'][:90]}")
            args.gold += len(_argument_items(g))
            continue
        gold_items = _argument_items(g)

        def predicted_items(e):
            return _argument_items({
                "agent": _name(e.agent, mapping, labels), "target": _name(e.target, mapping, labels),
                "weapons": [_name(w, mapping, labels) for w in e.weapons],
                "places": [_name(p, mapping, labels) for p in e.places], "count": e.count})

        best = max(candidates, key=lambda e: len(predicted_items(e) & gold_items))
        free.remove(best)
        layer.tp += 1
        mine = predicted_items(best)
        args.tp += len(mine & gold_items)
        args.predicted += len(mine)
        args.gold += len(gold_items)
        wrong = sorted(f"{r}={v}" for r, v in gold_items - mine)
        extra = sorted(f"{r}={v}" for r, v in mine - gold_items)
        if wrong or extra:
            score.misses.setdefault("event_arguments", []).append(
                f"{g['type']} missing {wrong} extra {extra}: {g['sentence'][:60]}")
    score.spurious["events"] = [f"{e.type} ({e.trigger}): {e.sentence.text[:90]}" for e in free]


def _match_statements(extraction: Extraction, gold: list[dict], mapping: dict[str, str], labels: dict[str, str],
                      score: ArticleScore) -> None:
    text = extraction.article.text
    free = list(extraction.statements)
    layer = score.layers["statements"]
    layer.predicted, layer.gold = len(free), len(gold)
    for g in gold:
        span = _span_of(text, g["sentence"])
        candidates = [s for s in free if _overlaps((s.sentence.start, s.sentence.end), span)] if span else []
        if not candidates:
            score.misses.setdefault("statements", []).append(f"{g['speaker']} {g['stance']}: {g['sentence'][:90]}")
            continue
        best = next((s for s in candidates if _name(s.speaker, mapping, labels) == g["speaker"]), candidates[0])
        free.remove(best)
        layer.tp += 1
        speaker = _name(best.speaker, mapping, labels)
        for key, ok, detail in (
                ("speaker", speaker == g["speaker"], f"{speaker} for {g['speaker']}"),
                ("stance", best.stance == g["stance"], f"{best.stance} for {g['stance']}"),
                ("hedged", best.hedged == g["hedged"], f"{best.hedged} for {g['hedged']}")):
            score.accuracy[key].add(ok)
            if not ok:
                score.misses.setdefault(key, []).append(f"{detail}: {g['sentence'][:70]}")
    score.spurious["statements"] = [f"{labels.get(s.speaker, s.speaker_text)} {s.stance}: {s.sentence.text[:80]}"
                                    for s in free]


def score_article(extraction: Extraction, gold: dict, name: str) -> ArticleScore:
    score = ArticleScore(name)
    labels = {e.id: e.label for e in extraction.entities}
    mapping = _match_entities(extraction, gold.get("entities", []), score)
    _match_events(extraction, gold.get("events", []), mapping, labels, score)
    _match_statements(extraction, gold.get("statements", []), mapping, labels, score)
    return score


@dataclass
class EvalReport:
    articles: list[ArticleScore]
    layers: dict[str, Counts]
    accuracy: dict[str, Accuracy]

    def to_json(self) -> dict:
        def layer(c: Counts) -> dict:
            return {"precision": round(c.precision, 4), "recall": round(c.recall, 4), "f1": round(c.f1, 4),
                    "tp": c.tp, "predicted": c.predicted, "gold": c.gold}
        return {
            "layers": {k: layer(v) for k, v in self.layers.items()},
            "accuracy": {k: {"accuracy": round(v.value, 4), "right": v.right, "total": v.total}
                         for k, v in self.accuracy.items()},
            "articles": [{"name": a.name, "layers": {k: layer(v) for k, v in a.layers.items()},
                          "misses": a.misses, "spurious": a.spurious, "errors": a.errors} for a in self.articles],
        }


def evaluate(directory: Path, extractor=None) -> EvalReport:
    """Run extraction on every NN-slug.txt with a NN-slug.gold.json beside it and score it."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory. Give the folder of NN-slug.txt and NN-slug.gold.json files")
    pairs = [(t, t.with_name(t.stem + ".gold.json")) for t in sorted(directory.glob("*.txt"))]
    pairs = [(t, g) for t, g in pairs if g.exists()]
    if not pairs:
        raise UsageError(f"{directory}: no NN-slug.txt with a NN-slug.gold.json beside it")
    if extractor is None:
        from kg.extract import Extractor

        extractor = Extractor()
    report = EvalReport([], {k: Counts() for k in LAYERS}, {k: Accuracy() for k in ACCURACIES})
    for text_path, gold_path in pairs:
        items = list(iter_articles([str(text_path)]))
        if not items or isinstance(items[0], InputError):
            score = ArticleScore(text_path.stem, errors=[str(items[0]) if items else "no article"])
            report.articles.append(score)
            continue
        try:
            gold = json.loads(gold_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            report.articles.append(ArticleScore(text_path.stem, errors=[f"{gold_path}: {err}"]))
            continue
        score = score_article(extractor.extract(items[0]), gold, text_path.stem)
        report.articles.append(score)
        for k in LAYERS:
            report.layers[k].add(score.layers[k])
        for k in ACCURACIES:
            report.accuracy[k].merge(score.accuracy[k])
    return report
