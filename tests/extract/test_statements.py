"""Statements: speakers, stance, hedging, nested attribution, non-utterances."""

from __future__ import annotations

import pytest


def _statements(extract_text, text):
    ex, labels = extract_text(text)
    return ex.statements, labels


@pytest.mark.parametrize("text, speaker, stance", [
    ("Russia said its forces had repelled the attack.", "Russia", "assert"),
    ("Kyiv denied the accusation.", "Ukraine", "deny"),
    ("Moscow accused Ukraine of shelling the plant.", "Russia", "accuse"),
    ("The United Nations urged both sides to protect civilians.", "United Nations", "call"),
    ("NATO has expressed concern over the escalation.", "NATO", "concern"),
    ("The European Union called for an immediate ceasefire.", "European Union", "call"),
])
def test_statements_speaker_and_stance(extract_text, text, speaker, stance):
    statements, labels = _statements(extract_text, text)
    assert [(labels.get(s.speaker), s.stance) for s in statements] == [(speaker, stance)]


def test_statements_accusation_and_its_denial_in_one_sentence(extract_text):
    statements, labels = _statements(extract_text, "Russian officials accused Ukraine of targeting homes, "
                                                   "a claim that Kyiv has consistently denied.")
    assert {(labels.get(s.speaker), s.stance) for s in statements} == {("Russia", "accuse"), ("Ukraine", "deny")}


@pytest.mark.parametrize("text", [
    "The drones were reportedly launched from the south.",
    "The ministry claimed that 20 drones had been destroyed.",
    "According to preliminary reports, two people were injured, the governor said.",
])
def test_statements_hedged(extract_text, text):
    statements, _ = _statements(extract_text, text)
    assert statements and all(s.hedged for s in statements)


def test_statements_plain_said_is_not_hedged(extract_text):
    statements, _ = _statements(extract_text, "Ukraine said it shot down 12 drones.")
    assert [s.hedged for s in statements] == [False]


@pytest.mark.parametrize("text", [
    "The army has not commented on the incident.",
    "The ministry declined to confirm the figures.",
    "Explosions were reported near the airport.",
])
def test_statements_non_utterances(extract_text, text):
    statements, _ = _statements(extract_text, text)
    assert statements == ()


def test_statements_unnamed_sources_have_no_speaker(extract_text):
    statements, _ = _statements(extract_text, "Officials said the strike hit a power station.")
    assert [s.speaker for s in statements] == [None]


def test_statements_according_to_named_source(extract_text):
    statements, labels = _statements(extract_text, "The base was hit twice, according to the Russian "
                                                   "defense ministry.")
    assert [labels.get(s.speaker) for s in statements] == ["Ministry of Defence of Russia"]


def test_statements_pronoun_speaker_is_previous_speaker(extract_text):
    statements, labels = _statements(extract_text, "Ukraine said it downed 10 drones. It added that debris "
                                                   "fell on a school.")
    assert [labels.get(s.speaker) for s in statements] == ["Ukraine", "Ukraine"]


def test_statements_link_to_the_event_they_report(extract_text):
    ex, _ = extract_text("Ukraine said it shot down 12 Russian drones over the Kyiv region.")
    interception = next(e for e in ex.events if e.type == "Interception")
    assert any(interception.id in s.about for s in ex.statements)


def test_statements_nested_attribution_keeps_every_link(extract_text):
    statements, labels = _statements(extract_text, "Kyiv said, citing the Ukrainian air force, that 11 drones "
                                                   "were shot down, Reuters reported.")
    assert len(statements) == 1
    st = statements[0]
    assert labels.get(st.speaker) == "Ukraine"
    assert {labels.get(s) for s in st.sources} == {"Reuters", "Ukrainian Air Force"}


def test_statements_participle_shares_the_speaker(extract_text):
    statements, labels = _statements(extract_text, "The minister told reporters in Ankara that talks went well, "
                                                   "denying Turkey had sent drones to Russia, Anadolu reported.")
    assert [s.stance for s in statements] == ["deny"]


@pytest.mark.parametrize("text", [
    "Bloomberg reported the delivery, but Kyiv has not yet confirmed it.",
    "The toll is not yet clear, the governor said.",
    "CNN, citing unnamed defense officials, said the jets had arrived.",
])
def test_statements_unconfirmed_reports_are_hedged(extract_text, text):
    statements, _ = _statements(extract_text, text)
    assert statements and any(s.hedged for s in statements)


def test_statements_prediction_inside_a_report_is_not_an_utterance(extract_text):
    statements, labels = _statements(extract_text, "Reports said Berlin would urge Moscow to halt the attacks.")
    assert [labels.get(s.speaker) for s in statements] == [None]


def test_statements_concern_cue_is_a_whole_word(extract_text):
    statements, _ = _statements(extract_text, "The governor reported no direct hits on the city.")
    assert [s.stance for s in statements] == ["assert"]


def test_statements_denial_and_accusation_by_one_speaker_are_two(extract_text):
    statements, labels = _statements(extract_text, "Moscow denied shelling the town and accused Kyiv of "
                                                   "staging the attack.")
    assert sorted((labels.get(s.speaker), s.stance) for s in statements) == [("Russia", "accuse"),
                                                                                ("Russia", "deny")]


def test_statements_adverbial_clause_has_its_own_speaker(extract_text):
    statements, labels = _statements(extract_text, "NATO urged restraint, while the African Union called for "
                                                   "talks.")
    assert sorted(labels.get(s.speaker) for s in statements) == ["African Union", "NATO"]
