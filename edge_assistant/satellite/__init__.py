"""The satellite: a microphone in a room that streams each utterance to a Wyoming hub.

It runs capture, endpointing and the optional wake phrase here (``edge_assistant.audio``), sends
each utterance to any Wyoming server with ``asr`` and ``handle`` programs, and speaks the reply
(the hub's ``tts`` or the local ``[tts]`` engine). It imports no parser and no language model, so
``pip install edge-assistant[satellite]`` is small; only ``settings`` is imported by the config loader.
"""
