"""The hub's answer to ``describe``: its programs, with attribution, version, languages and models."""

from __future__ import annotations

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
)

from edge_assistant import __version__
from edge_assistant.tts import TtsSettings

__all__ = ["LANGUAGES", "PROJECT", "build_info"]

LANGUAGES = ["en"]
PROJECT = Attribution(name="edge-assistant", url="https://github.com/edge-assistant/edge-assistant")
_ENGINES = {
    "pocketsphinx": Attribution(name="CMU Sphinx", url="https://github.com/cmusphinx/pocketsphinx"),
    "vosk": Attribution(name="Alpha Cephei", url="https://alphacephei.com/vosk/"),
}
_VOICES = {
    "espeak-ng": Attribution(name="eSpeak NG", url="https://github.com/espeak-ng/espeak-ng"),
    "piper": Attribution(name="Open Home Foundation", url="https://github.com/OHF-Voice/piper1-gpl"),
}


def build_info(engine: str, stt_mode: str, model_name: str, tts: TtsSettings) -> Info:
    """Info for a hub on ``engine`` (grammar or open vocabulary), intent model ``model_name``, and ``[tts]``."""
    grammar = stt_mode == "grammar"
    asr = AsrProgram(
        name="edge-assistant-asr",
        description="Offline speech to text" + (" over the catalog's command grammar and the home's names" * grammar),
        attribution=PROJECT,
        installed=True,
        version=__version__,
        models=[
            AsrModel(
                name=f"{engine}-{stt_mode}",
                description=f"{engine}, {'command grammar' if grammar else 'open vocabulary'}",
                attribution=_ENGINES.get(engine, PROJECT),
                installed=True,
                version=None,
                languages=LANGUAGES,
            )
        ],
    )
    described = f"Offline intents: hassil templates and {model_name}"
    handle = HandleProgram(
        name="edge-assistant",
        description="Offline voice commands: intent, safety policy, your handlers, a short reply",
        attribution=PROJECT,
        installed=True,
        version=__version__,
        models=[HandleModel(model_name, PROJECT, True, described, __version__, LANGUAGES)],
        supports_home_control=True,
    )
    intent = IntentProgram(
        name="edge-assistant-intent",
        description="Offline intent recognition: intent name, slots and target entity ids",
        attribution=PROJECT,
        installed=True,
        version=__version__,
        models=[IntentModel(model_name, PROJECT, True, described, __version__, LANGUAGES)],
    )
    return Info(asr=[asr], handle=[handle], intent=[intent], tts=_tts(tts))


def _tts(settings: TtsSettings) -> list[TtsProgram]:
    if settings.engine == "none":
        return []
    voice = settings.voice.rsplit("/", 1)[-1] or ("en-us" if settings.engine == "espeak-ng" else "en_US-joe-medium")
    return [
        TtsProgram(
            name="edge-assistant-tts",
            description=f"Replies spoken by {settings.engine}",
            attribution=PROJECT,
            installed=True,
            version=__version__,
            voices=[
                TtsVoice(
                    name=voice,
                    description=f"{settings.engine} voice {voice}",
                    attribution=_VOICES[settings.engine],
                    installed=True,
                    version=None,
                    languages=LANGUAGES,
                )
            ],
        )
    ]
