"""The ``gpio`` handler: relays and LEDs bound to entities, PWM for brightness, via gpiozero.

``[handlers.gpio.entities."light.kitchen"] pin = 17, kind = "pwm"``. On and off map to the
output; ``HassLightSet`` brightness sets the PWM duty cycle (a relay or plain LED is on above 0).
A pin that another device or process holds is reported in each call's result, and the handler
tries to claim it again on the next call, so it recovers once the pin is free.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from edge_assistant.errors import BackendMissingError, HandlerError
from edge_assistant.handlers.base import Call, Command, Outcome, entity_keys
from edge_assistant.handlers.settings import GpioPin, GpioSettings

__all__ = ["GpioHandler", "make_pin_factory"]


def make_pin_factory(name: str) -> Any:
    """A gpiozero pin factory by name ("" = gpiozero's default; "mock" = simulated pins with PWM)."""
    if not name:
        return None
    if name == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    modules = {
        "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
        "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
        "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
        "native": ("gpiozero.pins.native", "NativeFactory"),
    }
    module, cls = modules[name]
    try:
        return getattr(__import__(module, fromlist=[cls]), cls)()
    except Exception as exc:  # each backend fails differently off a Pi (no chip, no daemon)
        raise HandlerError(f"[handlers.gpio] pin_factory: '{name}' cannot start: {exc}") from exc


class GpioHandler:
    """gpiozero outputs per entity; every pin operation runs in a thread, one at a time."""

    def __init__(self, settings: GpioSettings, name: str = "gpio", pin_factory: Any = None) -> None:
        try:
            import gpiozero
        except ImportError as exc:
            raise BackendMissingError("gpiozero", "gpio") from exc
        self.name = name
        self.settings = settings
        self._gz = gpiozero
        self._factory = pin_factory if pin_factory is not None else make_pin_factory(settings.pin_factory)
        self._lock = threading.Lock()
        self._devices: dict[str, Any] = {}
        self._problems: dict[str, str] = {}
        for entity_id, pin in settings.entities.items():
            self._claim(entity_id, pin)

    def _claim(self, entity_id: str, pin: GpioPin) -> Any:
        classes = {"relay": self._gz.OutputDevice, "led": self._gz.LED, "pwm": self._gz.PWMLED}
        try:
            device = classes[pin.kind](pin.pin, active_high=pin.active_high, pin_factory=self._factory)
        except (self._gz.GPIOZeroError, OSError, RuntimeError) as exc:
            busy = isinstance(exc, self._gz.GPIOPinInUse) or "busy" in str(exc).lower()
            what = "is busy" if busy else "cannot be used"
            self._problems[entity_id] = f"GPIO pin {pin.pin} for {entity_id} {what}: {exc}"
            return None
        self._problems.pop(entity_id, None)
        self._devices[entity_id] = device
        return device

    def problems(self) -> dict[str, str]:
        """Entities whose pin could not be claimed, with the reason."""
        return dict(self._problems)

    def keys(self, command: Command) -> list[str | None]:
        """One call per target entity bound to a pin."""
        return list(entity_keys(self.settings, command, self.settings.entities))

    async def handle(self, call: Call) -> Outcome:
        """Switch or dim the entity's output."""
        return await asyncio.to_thread(self._act, call)

    def _act(self, call: Call) -> Outcome:
        assert call.entity is not None
        with self._lock:
            device = self._devices.get(call.entity) or self._claim(call.entity, self.settings.entities[call.entity])
            if device is None:
                return Outcome(ok=False, error=self._problems[call.entity])
            return self._apply(device, call)

    def _apply(self, device: Any, call: Call) -> Outcome:
        intent, slots = call.command.intent, call.command.slots
        pwm = isinstance(device, self._gz.PWMLED)
        if intent == "HassTurnOn":
            device.on()
        elif intent == "HassTurnOff":
            device.off()
        elif intent == "HassLightSet" and "brightness" in slots:
            level = max(0, min(100, int(slots["brightness"]))) / 100
            if pwm:
                device.value = level
            else:
                device.on() if level > 0 else device.off()
        elif intent == "HassGetState":
            return Outcome(reply=f"It is {'on' if device.is_active else 'off'}")
        else:
            return Outcome(ok=False, error=f"a GPIO output cannot do {intent} with {sorted(slots)}")
        return Outcome()

    def value(self, entity_id: str) -> float | None:
        """The output's current value (0..1), None when the entity has no claimed pin."""
        device = self._devices.get(entity_id)
        return None if device is None else float(device.value)

    def close_sync(self) -> None:
        """Release every pin."""
        with self._lock:
            for device in self._devices.values():
                device.close()
            self._devices.clear()

    async def aclose(self) -> None:
        """Release every pin."""
        await asyncio.to_thread(self.close_sync)
