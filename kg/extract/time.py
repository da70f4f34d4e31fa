"""Time expressions resolved against the article's publication date when it is known.

"overnight", "on Tuesday", "yesterday", "last week", "on 16 June", "May 30" become an xsd date or
an interval with its precision; without a publication date they stay as text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from spacy.tokens import Span

from kg.model import TimeExpression

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                       "august", "september", "october", "november", "december"], 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9


def resolve(text: str, published: str | None) -> TimeExpression:
    """A TimeExpression for ``text``; its value is set only when it can be resolved."""
    t = text.lower().strip()
    pub = date.fromisoformat(published) if published else None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        return TimeExpression(text, t, "day")
    m = re.search(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\w*\s*(\d{4})?", t) or None
    m2 = re.search(r"\b(" + "|".join(_MONTHS) + r")\w*\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s*(\d{4}))?", t)
    if m or m2:
        if m:
            day, month, year = int(m.group(1)), _MONTHS[m.group(2)], m.group(3)
        else:
            month, day, year = _MONTHS[m2.group(1)], int(m2.group(2)), m2.group(3)
        if year:
            return _safe(text, int(year), month, day)
        if pub:
            candidate = _safe(text, pub.year, month, day)
            if candidate.value and candidate.value > pub.isoformat():
                return _safe(text, pub.year - 1, month, day)
            return candidate
        return TimeExpression(text)
    m = re.fullmatch(r"(?:in\s+)?(\d{4})", t)
    if m:
        return TimeExpression(text, m.group(1), "year")
    if pub is None:
        return TimeExpression(text)
    if any(w in t for w in ("overnight", "last night", "during the night", "the night", "tonight")):
        return TimeExpression(text, f"{(pub - timedelta(days=1)).isoformat()}/{pub.isoformat()}", "interval")
    if "yesterday" in t:
        return TimeExpression(text, (pub - timedelta(days=1)).isoformat(), "day")
    if "today" in t or "this morning" in t or "this afternoon" in t or "this evening" in t:
        return TimeExpression(text, pub.isoformat(), "day")
    for i, name in enumerate(_WEEKDAYS):
        if name in t:
            delta = (pub.weekday() - i) % 7
            if "last" in t and delta == 0:
                delta = 7
            return TimeExpression(text, (pub - timedelta(days=delta)).isoformat(), "day")
    if "last week" in t or "past week" in t:
        start = pub - timedelta(days=pub.weekday() + 7)
        return TimeExpression(text, f"{start.isoformat()}/{(start + timedelta(days=6)).isoformat()}", "week")
    if "this week" in t:
        start = pub - timedelta(days=pub.weekday())
        return TimeExpression(text, f"{start.isoformat()}/{pub.isoformat()}", "week")
    if "last month" in t:
        first = pub.replace(day=1) - timedelta(days=1)
        return TimeExpression(text, first.strftime("%Y-%m"), "month")
    return TimeExpression(text)


def _safe(text: str, year: int, month: int, day: int) -> TimeExpression:
    try:
        return TimeExpression(text, date(year, month, day).isoformat(), "day")
    except ValueError:
        return TimeExpression(text)


_NIGHT = re.compile(r"\b(overnight|last night|during the night|tonight)\b", re.I)


def _time_entities(doc) -> list[Span]:
    """DATE/TIME entities of a document, computed once per document.

    ``Span.ents`` rebuilds the document's entity list on every call, which cost more than the rest
    of time finding together when asked once per event."""
    cached = doc.user_data.get("kg_time_entities")
    if cached is None:
        cached = [e for e in doc.ents if e.label_ in {"DATE", "TIME"}]
        doc.user_data["kg_time_entities"] = cached
    return cached


def time_in(sent: Span, anchor: int, published: str | None) -> TimeExpression | None:
    """The time expression of a sentence nearest to the token ``anchor``."""
    candidates = [e for e in _time_entities(sent.doc) if e.start >= sent.start and e.end <= sent.end]
    best = None
    if candidates:
        best = min(candidates, key=lambda e: abs(e.start - anchor))
        text = best.text.strip()
        if text.lower() in {"the night"} or text:
            return resolve(text, published)
    m = _NIGHT.search(sent.text)
    if m:
        return resolve(m.group(0), published)
    return None
