"""Builds handlers from ``[handlers.*]``: built-in kinds, and third-party ones by entry point.

A third-party package registers a factory in the ``edge_assistant.handlers`` entry-point group::

    [project.entry-points."edge_assistant.handlers"]
    buzzer = "my_pkg.buzzer:make_handler"

and a config selects it with ``[handlers.plugins.NAME] entry_point = "buzzer"``. The factory is
called as ``factory(name, settings, home)`` (``settings`` is the ``PluginSettings`` with its
``options`` table) and returns an object with the ``Handler`` protocol. ``handle`` runs on the
event loop: blocking work (a serial port, a slow library) belongs in ``asyncio.to_thread``, so
that the dispatcher's timeout can stop waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import metadata
from typing import Any

from edge_assistant.errors import HandlerError
from edge_assistant.handlers.base import Handler
from edge_assistant.handlers.settings import HandlersSettings, PluginSettings
from edge_assistant.home import Home

__all__ = ["ENTRY_POINT_GROUP", "build_handlers", "load_plugin"]

ENTRY_POINT_GROUP = "edge_assistant.handlers"


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def load_plugin(
    name: str,
    settings: PluginSettings,
    home: Home,
    entry_points: Callable[[], Iterable[metadata.EntryPoint]] = _entry_points,
) -> Handler:
    """Load and build the plugin handler ``name``; HandlerError when it is missing or broken."""
    found = {ep.name: ep for ep in entry_points()}
    ep = found.get(settings.entry_point)
    where = f"[handlers.plugins.{name}] entry_point"
    if ep is None:
        known = ", ".join(sorted(found)) or "none installed"
        raise HandlerError(f"{where}: no '{settings.entry_point}' in the {ENTRY_POINT_GROUP} group ({known})")
    try:
        factory = ep.load()
        handler = factory(name, settings, home)
    except HandlerError:
        raise
    except Exception as exc:  # third-party code: any failure is a set-up error naming the plugin
        raise HandlerError(f"{where}: '{ep.value}' failed to load: {type(exc).__name__}: {exc}") from exc
    if not isinstance(handler, Handler):
        raise HandlerError(f"{where}: '{ep.value}' did not return a handler (name, keys, handle, aclose)")
    return handler


def build_handlers(settings: HandlersSettings, home: Home, **inject: Any) -> tuple[list[Handler], dict[str, float]]:
    """The configured handlers (the log handler when none is) and each one's timeout in seconds."""
    handlers: list[Handler] = []
    timeouts: dict[str, float] = {}
    try:
        if settings.empty or settings.log is not None:
            from edge_assistant.handlers.log import LogHandler

            handlers.append(LogHandler(settings.log))
        if settings.mqtt is not None:
            from edge_assistant.handlers.mqtt import MqttHandler

            handlers.append(MqttHandler(settings.mqtt))
        if settings.http is not None:
            from edge_assistant.handlers.http import HttpHandler

            handlers.append(HttpHandler(settings.http))
        if settings.homeassistant is not None:
            from edge_assistant.handlers.homeassistant import HomeAssistantHandler

            handlers.append(HomeAssistantHandler(settings.homeassistant))
        if settings.command is not None:
            from edge_assistant.handlers.command import CommandHandler

            handlers.append(CommandHandler(settings.command))
        if settings.gpio is not None:
            from edge_assistant.handlers.gpio import GpioHandler

            handlers.append(GpioHandler(settings.gpio, pin_factory=inject.get("pin_factory")))
        for name, plugin in settings.plugins.items():
            handlers.append(load_plugin(name, plugin, home, inject.get("entry_points", _entry_points)))
    except BaseException:
        for built in handlers:
            _close_quietly(built)
        raise
    for handler in handlers:
        timeouts[handler.name] = _timeout(settings, handler.name)
    return handlers, timeouts


def _timeout(settings: HandlersSettings, name: str) -> float:
    section = getattr(settings, name, None) if name != "plugins" else None
    if section is None:
        plugin = settings.plugins.get(name)
        return plugin.timeout_s if plugin is not None else 5.0
    return float(section.timeout_s)


def _close_quietly(handler: Handler) -> None:
    """Release what a handler holds when a later one fails to build (no loop may be running)."""
    close = getattr(handler, "close_sync", None)
    if callable(close):
        close()
