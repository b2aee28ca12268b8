"""edge-assistant: offline voice commands, from speech to validated intents to device handlers."""

from edge_assistant.errors import (
    ConfigError,
    EdgeAssistantError,
    HomeError,
    IntentSchemaError,
    ModelError,
    ModelNotFoundError,
)

__all__ = [
    "ConfigError",
    "EdgeAssistantError",
    "HomeError",
    "IntentSchemaError",
    "ModelError",
    "ModelNotFoundError",
    "__version__",
]
__version__ = "0.1.0"
