"""Hybrid decoding: which pass answers, with scripted engines standing in for both."""

from __future__ import annotations

import pytest

from edge_assistant.events import Transcript
from edge_assistant.stt.bias import home_names, initial_prompt, respell_names
from edge_assistant.stt.hybrid import HybridTranscriber, Policy, agreement
from edge_assistant.testing import FakeTranscriber

pytestmark = pytest.mark.unit

GRAMMAR_HIT = Transcript("turn on the porch light", 0.9, engine="pocketsphinx", in_grammar=True)
GRAMMAR_MISS = Transcript("turn on the", 0.4, engine="pocketsphinx", in_grammar=False)
OPEN_TEXT = Transcript("it's gloomy in the study", 0.8, engine="whisper", in_grammar=True)
NEVER = RuntimeError("the open pass must not decode this utterance")


def _decode(
    grammar: Transcript, open_: Transcript | BaseException, min_confidence: float = 0.0, policy: Policy = "agree"
) -> Transcript:
    grammar_pass, open_pass = FakeTranscriber([grammar]), FakeTranscriber([open_])
    hybrid = HybridTranscriber(grammar_pass, open_pass, policy=policy, min_confidence=min_confidence)
    session = hybrid.start()
    session.accept(b"\0\0" * 1600)
    session.accept(b"\0\0" * 1600)
    result = session.finish()
    assert grammar_pass.fed == open_pass.fed == [6400]  # both passes heard all the audio
    return result


def test_grammar_first_answers_alone_when_the_grammar_holds_the_utterance() -> None:
    """``grammar_first``: a template sentence is answered at once; the open engine never decodes it."""
    result = _decode(GRAMMAR_HIT, NEVER, policy="grammar_first")
    assert result.text == "turn on the porch light" and result.extra["pass"] == "grammar"


def test_when_both_passes_hear_the_command_the_grammar_spelling_answers() -> None:
    """``agree``: Whisper's "Turn on the porch light." is the grammar's sentence, word for word."""
    result = _decode(GRAMMAR_HIT, Transcript("Turn on the porch light.", 0.8, engine="whisper"))
    assert result.text == "turn on the porch light" and result.extra["pass"] == "both"


def test_a_grammar_sentence_the_open_pass_did_not_hear_is_not_acted_on() -> None:
    """pocketsphinx forced "porch light off, would you" onto another command: the open text answers."""
    forced = Transcript("porch light on bedroom", 0.78, engine="pocketsphinx", in_grammar=True)
    heard = Transcript("porch light off would you", 0.9, engine="whisper")
    result = _decode(forced, heard)
    assert result.text == "porch light off would you" and result.extra["pass"] == "open"


def test_agreement_reads_numbers_as_the_parser_does() -> None:
    """ "seventy percent" (grammar) and "70%" (Whisper) are the same words; forced text is not."""
    assert agreement("set the kitchen light to seventy percent", "Set the kitchen light to 70%.") == 1.0
    assert agreement("porch light on bedroom", "porch light off would you") < 0.6


def test_transcripts_that_differ_in_a_number_do_not_agree() -> None:
    """A value is what acts: a forced "to eight" never rides on an otherwise alike sentence."""
    assert agreement("open up the blinds in the study to eight", "Open up the blinds in the Study a bit") == 0.0
    assert agreement("set a timer for 22.5 minutes", "Set a timer for 22.5 minutes.") == 1.0


def test_speech_outside_the_grammar_goes_to_the_open_pass() -> None:
    """Natural phrasing the templates lack reaches the parser through the open engine."""
    result = _decode(GRAMMAR_MISS, OPEN_TEXT)
    assert result.text == "it's gloomy in the study" and result.extra["pass"] == "open"
    assert result.extra["grammar_text"] == "turn on the"


def test_an_unsure_grammar_match_is_decoded_again_by_the_open_pass() -> None:
    """Below ``grammar_min_confidence`` the grammar's sentence is not trusted on its own."""
    result = _decode(GRAMMAR_HIT, OPEN_TEXT, min_confidence=0.95, policy="grammar_first")
    assert result.extra["pass"] == "open" and result.text == OPEN_TEXT.text


def test_noise_refused_by_both_passes_stays_refused() -> None:
    """The open pass's guards keep ``in_grammar=False``, so the pipeline does nothing."""
    refused = Transcript("you", 0.2, engine="whisper", in_grammar=False, extra={"rejected": "no speech"})
    result = _decode(GRAMMAR_MISS, refused)
    assert not result.in_grammar and result.extra["rejected"] == "no speech"


def test_the_answer_reports_the_cpu_seconds_of_the_utterance() -> None:
    """``stt_cpu_s`` lets Pi timings be estimated from the log."""
    assert _decode(GRAMMAR_HIT, NEVER, policy="grammar_first").extra["stt_cpu_s"] >= 0.0


def test_names_spelled_apart_are_written_as_the_home_names_them() -> None:
    """ "eco bee" and "Party-Time" are the home's EcoBee and Party Time; other words stay."""
    names = ("EcoBee", "Party Time", "TV")
    assert respell_names("what's the temperature of the eco bee", names) == "what's the temperature of the EcoBee"
    assert respell_names("run Party-Time", names) == "run Party Time"
    assert respell_names("turn on the echo", names) == "turn on the echo"


def test_the_prompt_ends_with_the_home_names(example_home_path: object) -> None:
    """Whisper keeps the end of a long prompt, so the names go last, after the catalog's examples."""
    from edge_assistant.home import load_home

    names = home_names(load_home(example_home_path))  # type: ignore[arg-type]
    prompt = initial_prompt(names, ["turn on the porch light", "set a timer for 10 minutes"])
    assert prompt.startswith("Turn on the porch light. Set a timer for 10 minutes. ")
    assert prompt.endswith(", ".join(names) + ".") and "Rover" in names and "lounge" in names
