"""Counts with their meaning: "at least 16", "up to 30", "dozens" (approximate, no made-up number)."""

from __future__ import annotations

import re

from spacy.tokens import Token

from kg.model import Quantity

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
          "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
          "ninety": 90, "hundred": 100, "a dozen": 12, "dozen": 12}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


def parse_number(text: str) -> int | None:
    """"55" -> 55, "150,000" -> 150000, "four" -> 4, "twenty-five" -> 25, "1.5 million" -> 1500000."""
    t = text.lower().strip().replace("\u2009", "").replace(",", "")
    if re.fullmatch(r"\d+", t):
        return int(t)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(hundred|thousand|million)", t)
    if m:
        return int(float(m.group(1)) * _SCALE[m.group(2)])
    if t in _WORDS:
        return _WORDS[t]
    parts = re.split(r"[-\s]+", t)
    if all(p in _WORDS for p in parts):
        return sum(_WORDS[p] for p in parts)
    return None


def _qualifier(num: Token, lexicon: dict) -> tuple[str, str]:
    """The qualifier before a number ("at least", "up to") and its text."""
    doc = num.doc
    before = doc[max(0, num.i - 3): num.i].text.lower()
    for qualifier, phrases in lexicon.get("qualifiers", {}).items():
        for phrase in sorted(phrases, key=len, reverse=True):
            if before.endswith(phrase):
                return qualifier, phrase
    return "exact", ""


def quantity_of(noun: Token, lexicon: dict) -> Quantity | None:
    """The count attached to a noun ("55 Ukrainian drones", "at least 16 people", "dozens of drones")."""
    for child in noun.children:
        if child.dep_ == "nummod" or (child.like_num and child.i < noun.i and child.dep_ in {"amod", "compound"}):
            span = _number_span(child)
            value = parse_number(span)
            if value is None:
                continue
            qualifier, qtext = _qualifier(noun.doc[_span_start(child)], lexicon)
            text = f"{qtext} {span}".strip()
            return Quantity(value=value, qualifier=qualifier, text=text)
    # "dozens of drones": the head is the approximate word, the noun its pobj.
    if noun.dep_ == "pobj" and noun.head.lower_ == "of":
        word = noun.head.head
        approx = set(lexicon.get("count_words", {}).get("approximate", []))
        if word.lower_ in approx:
            return Quantity(value=None, qualifier="approximately", text=f"{word.text} of")
        if word.like_num:
            value = parse_number(_number_span(word))
            if value is not None:
                qualifier, qtext = _qualifier(word.doc[_span_start(word)], lexicon)
                return Quantity(value=value, qualifier=qualifier, text=f"{qtext} {word.text}".strip())
    for child in noun.children:
        if child.dep_ in {"amod", "det"} and child.lower_ in set(lexicon.get("count_words", {}).get("approximate", [])):
            return Quantity(value=None, qualifier="approximately", text=child.text)
    return None


def _span_start(num: Token) -> int:
    start = num.i
    for child in num.children:
        if child.dep_ == "compound" and child.like_num and child.i < start:
            start = child.i
    return start


def _number_span(num: Token) -> str:
    """A number with its compound parts: "1.5 million", "twenty five"."""
    parts = sorted([num, *[c for c in num.children if c.dep_ == "compound" and c.like_num]], key=lambda t: t.i)
    return " ".join(p.text for p in parts)
