"""The gpio handler on gpiozero's mock pin factory: relays, LEDs, PWM brightness, busy pins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory, MockPWMPin

from edge_assistant.config import Settings
from edge_assistant.dispatch import Dispatcher, build_dispatcher
from edge_assistant.events import ActionResult, IntentResult
from edge_assistant.home import Home, load_home

pytestmark = pytest.mark.unit

ENTITIES = {
    "light.kitchen": {"pin": 18, "kind": "pwm"},
    "switch.coffee_maker": {"pin": 17, "kind": "relay", "active_high": False},
}


def result(intent: str, target: str, **slots: Any) -> IntentResult:
    """A parse acting on one entity."""
    name = {"light.kitchen": "Kitchen Light", "switch.coffee_maker": "Coffee Maker"}[target]
    return IntentResult(text="x", intent=intent, slots={"name": name, **slots}, targets=[target], confidence=1.0)


@pytest.fixture(scope="module")
def home(example_home_path: Path) -> Home:
    """The example home."""
    return load_home(example_home_path)


@pytest.fixture
def factory() -> MockFactory:
    """Simulated pins with PWM."""
    return MockFactory(pin_class=MockPWMPin)


def dispatcher(home: Home, factory: MockFactory) -> Dispatcher:
    """A dispatcher with the gpio handler on ``factory``."""
    settings = Settings.model_validate({"handlers": {"gpio": {"entities": ENTITIES}}})
    return build_dispatcher(settings, home, pin_factory=factory)


def run(home: Home, factory: MockFactory, *results: IntentResult) -> list[list[ActionResult]]:
    """Dispatch each result in turn, then close (releasing the pins)."""

    async def go() -> list[list[ActionResult]]:
        d = dispatcher(home, factory)
        try:
            return [await d.dispatch(r, "u") for r in results]
        finally:
            await d.aclose()

    return asyncio.run(go())


def test_relay_switches_with_active_low(home: Home, factory: MockFactory) -> None:
    """Turning the coffee maker on drives its active-low relay pin low, off drives it high."""
    states = []

    async def go() -> None:
        d = dispatcher(home, factory)
        for intent in ("HassTurnOn", "HassTurnOff"):
            await d.dispatch(result(intent, "switch.coffee_maker"), "u")
            states.append(factory.pin(17).state)
        await d.aclose()

    asyncio.run(go())
    assert states == [0, 1]


def test_brightness_sets_pwm_duty_cycle(home: Home, factory: MockFactory) -> None:
    """HassLightSet brightness 30 sets the PWM pin to 0.3."""

    async def go() -> tuple[list[ActionResult], float]:
        d = dispatcher(home, factory)
        actions = await d.dispatch(result("HassLightSet", "light.kitchen", brightness=30), "u")
        state = factory.pin(18).state
        await d.aclose()
        return actions, state

    actions, state = asyncio.run(go())
    assert actions[0].ok and actions[0].entity == "light.kitchen"
    assert state == pytest.approx(0.3)


def test_busy_pin_is_reported_then_recovered(home: Home, factory: MockFactory) -> None:
    """A pin held by another device fails each call with "busy"; once freed, the next call works."""
    other = LED(18, pin_factory=factory)

    async def go() -> tuple[list[ActionResult], list[ActionResult]]:
        d = dispatcher(home, factory)
        busy = await d.dispatch(result("HassTurnOn", "light.kitchen"), "u1")
        other.close()
        freed = await d.dispatch(result("HassTurnOn", "light.kitchen"), "u2")
        await d.aclose()
        return busy, freed

    busy, freed = asyncio.run(go())
    assert not busy[0].ok and "GPIO pin 18 for light.kitchen is busy" in (busy[0].error or "")
    assert freed[0].ok


def test_unsupported_intent_is_a_failed_action(home: Home, factory: MockFactory) -> None:
    """A GPIO output cannot set a colour: a failed action saying so, not a crash."""
    [actions] = run(home, factory, result("HassLightSet", "light.kitchen", color="red"))
    assert not actions[0].ok and "cannot do HassLightSet" in (actions[0].error or "")
