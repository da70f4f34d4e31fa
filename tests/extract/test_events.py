"""Events: triggers, arguments from the parse, counts, negation, merging of repeated reports."""

from __future__ import annotations

import pytest


def _events(extract_text, text, **kw):
    ex, labels = extract_text(text, **kw)
    return ex.events, labels


def test_events_interception_with_agent_count_and_owner(extract_text):
    events, labels = _events(extract_text, "Ukrainian air defenses shot down 31 Russian drones overnight.")
    ev = next(e for e in events if e.type == "Interception")
    assert labels[ev.agent] == "Ukrainian Air Defense Forces"
    assert labels[ev.target] == "Russia"
    assert ev.count == 31


def test_events_deployment_collects_weapons(extract_text):
    events, labels = _events(extract_text, "Two S-300 and S-400 batteries were deployed near the border.")
    ev = next(e for e in events if e.type == "Deployment")
    assert {labels[w] for w in ev.weapons} == {"S-300", "S-400"}


def test_events_military_aid_agent_through_plans(extract_text):
    events, labels = _events(extract_text, "The United States announced plans to deliver more air defense "
                                           "systems to Ukraine.")
    ev = next(e for e in events if e.type == "MilitaryAid")
    assert labels[ev.agent] == "United States"
    assert labels[ev.target] == "Ukraine"


@pytest.mark.parametrize("text", [
    "Moscow denied launching drones at the city.",
    "The drones may have been launched from Belarus.",
    "Russia threatened to strike Kyiv.",
    "Ukraine did not intercept the missiles.",
])
def test_events_negated_or_hypothetical_are_not_facts(extract_text, text):
    events, _ = _events(extract_text, text)
    assert events == ()


def test_events_count_qualifier_kept(extract_text):
    events, _ = _events(extract_text, "Air defenses intercepted at least 16 drones over the Kursk region.")
    ev = next(e for e in events if e.type == "Interception")
    assert ev.count == 16 and ev.quantity.qualifier == "at_least"


def test_events_headline_and_lead_are_one_event(extract_text):
    events, _ = _events(extract_text, "Russian air defense forces have intercepted 40 Ukrainian drones, the "
                                      "ministry said.", title="Russia Intercepts 40 Ukrainian Drones")
    interceptions = [e for e in events if e.type == "Interception"]
    assert len(interceptions) == 1 and len(interceptions[0].evidence) == 2


def test_events_time_resolved_against_publication(extract_text):
    events, _ = _events(extract_text, "Russia launched 17 missiles at Ukraine on Tuesday.", published="2024-08-08")
    ev = next(e for e in events if e.type == "Attack")
    assert ev.time is not None and ev.time.value == "2024-08-06"


def test_events_sentence_offsets_point_into_text(extract_text):
    ex, _ = extract_text("Russia launched 17 drones at Odesa. Ukraine intercepted 11 drones.")
    for ev in ex.events:
        assert ex.article.text[ev.sentence.start:ev.sentence.end] == ev.sentence.text
