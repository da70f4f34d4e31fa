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


def test_events_launched_and_shot_down_are_two_events_with_their_counts(extract_text):
    events, labels = _events(extract_text, "Russia launched 17 drones at Ukraine overnight. Ukrainian air "
                                           "defenses shot down 11 of them.")
    attack = next(e for e in events if e.type == "Attack")
    assert labels[attack.agent] == "Russia" and attack.count == 17


def test_events_participle_describing_munitions_is_not_an_event(extract_text):
    events, _ = _events(extract_text, "Air defenses shot down 20 Russia-launched drones over the Odesa region.")
    assert [e.type for e in events] == ["Interception"]


def test_events_owner_from_relative_clause(extract_text):
    events, labels = _events(extract_text, "Air defenses downed two missiles and 15 drones that Russia launched.")
    ev = next(e for e in events if e.type == "Interception")
    assert labels[ev.target] == "Russia"
    assert ev.count is None  # separate counts for two kinds and no total


def test_events_total_with_subset_keeps_the_total(extract_text):
    events, _ = _events(extract_text, "Ukraine shot down 120 drones launched by Russia, including 70 Shaheds.")
    ev = next(e for e in events if e.type == "Interception")
    assert ev.count == 120


def test_events_munitions_landing_are_an_attack(extract_text):
    events, _ = _events(extract_text, "Three rockets landed near the port of Haifa.")
    assert [e.type for e in events] == ["Attack"]


def test_events_coordinated_donors_give_one_event_each(extract_text):
    events, labels = _events(extract_text, "Sweden and Finland will deliver howitzers to Ukraine.")
    donors = sorted(labels[e.agent] for e in events if e.type == "MilitaryAid")
    assert donors == ["Finland", "Sweden"]


def test_events_casualty_count_through_a_total_of(extract_text):
    events, _ = _events(extract_text, "The shelling has killed a total of nine civilians in Kherson.")
    ev = next(e for e in events if e.type == "Casualties")
    assert ev.count == 9


def test_events_noun_trigger_with_a_participant(extract_text):
    events, labels = _events(extract_text, "The group claimed an attack on the tanker USS Vigilant on Monday.")
    assert any(e.type == "Attack" for e in events)
    assert "USS Vigilant" in labels.values()


def test_events_later_definite_report_joins_the_earlier_event(extract_text):
    events, labels = _events(extract_text, "Russian air defenses intercepted 30 drones overnight. Video showed the "
                                           "drones being intercepted over the Bryansk region.")
    interceptions = [e for e in events if e.type == "Interception"]
    assert len(interceptions) == 1
    assert [labels[p] for p in interceptions[0].places] == ["Bryansk Oblast"]
