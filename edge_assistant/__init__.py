"""edge-assistant: offline voice commands, from speech to validated intents to device handlers.

The Python API::

    from edge_assistant import Assistant

    assistant = Assistant.from_config("config.toml", home="home.yaml")
    turn = assistant.handle("turn off the kitchen lights")
    turn.parse.intent, turn.actions, turn.reply
"""

from edge_assistant.assistant import Assistant, Turn
from edge_assistant.errors import (
    ConfigError,
    EdgeAssistantError,
    HomeError,
    IntentSchemaError,
    ModelError,
    ModelNotFoundError,
)

__all__ = [
    "Assistant",
    "ConfigError",
    "EdgeAssistantError",
    "HomeError",
    "IntentSchemaError",
    "ModelError",
    "ModelNotFoundError",
    "Turn",
    "__version__",
]
__version__ = "0.1.0"
