"""The Wyoming hub: one process that serves Home Assistant and satellites over the Wyoming protocol.

``edge-assistant wyoming --uri tcp://HOST:PORT`` answers ``describe`` with its programs and serves
speech to text (``asr``), handling under the safety policy (``handle``), intent recognition
(``intent``) and, with ``[tts]``, speech synthesis (``tts``). Each connection gets its own
:class:`~edge_assistant.hub.handler.HubHandler` and dialogue; the speech engines and the assistant
core are shared (``server.Hub``). Limits and the bounded event reader: ``protocol``.

Only ``settings`` is imported by the config loader, so this package's ``__init__`` imports nothing.
"""
