"""Device handlers: one module per kind behind the small ``Handler`` protocol.

``log`` (the default), ``mqtt``, ``http``, ``homeassistant``, ``command`` and ``gpio``, plus
third-party handlers from the ``edge_assistant.handlers`` entry-point group (see ``registry``).
Only ``mqtt`` imports paho-mqtt and only ``gpio`` imports gpiozero, when configured.
"""

from edge_assistant.handlers.base import Call, Command, Handler, Outcome

__all__ = ["Call", "Command", "Handler", "Outcome"]
