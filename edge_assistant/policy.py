"""The safety policy: allow | confirm | deny for a command, and its ``[policy]`` settings.

Per target, an entity rule overrides a device-class rule, which overrides a domain rule, which
overrides the built-in defaults (locks, alarm panels, garage doors, gates and door covers:
confirm; not for read-only intents). The intent rule (config, else the catalog's ``safety``) is
then combined with the targets' rules, and the strictest wins.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edge_assistant.handlers.base import Command, domain_of
from edge_assistant.home import KNOWN_DOMAINS, Home
from edge_assistant.nlu.catalog import Catalog

__all__ = ["Policy", "PolicySettings", "Safety", "policy_problems"]

Safety = Literal["allow", "confirm", "deny"]

_READ_ONLY = (
    "HassGetState",
    "HassClimateGetTemperature",
    "HassTimerStatus",
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    "HassGetWeather",
)


class PolicySettings(BaseModel):
    """``[policy]``: allow | confirm | deny per intent, domain, device class and entity.

    The strictest rule that applies wins, except that a rule for an entity overrides the rest.
    Locks, alarm panels and garage doors, gates and doors (covers) default to confirm; the
    built-in defaults do not apply to read-only intents (``read_only``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    dry_run: bool = False
    confirm_timeout_s: float = Field(default=10.0, gt=0, le=600)
    intents: dict[str, Safety] = Field(default_factory=dict)
    domains: dict[str, Safety] = Field(default_factory=dict)
    device_classes: dict[str, Safety] = Field(default_factory=dict)
    entities: dict[str, Safety] = Field(default_factory=dict)
    defaults: bool = True
    read_only: tuple[str, ...] = _READ_ONLY


def policy_problems(settings: PolicySettings, catalog: Catalog, home: Home) -> list[tuple[str, str]]:
    """The rules of ``settings`` that name nothing, as (field, why): an intent the catalog lacks,
    a domain no device can have, an entity the home lacks. Such a rule never applies, so a "deny"
    with a typo in it would silently allow; ``build_dispatcher`` refuses it."""
    import difflib

    def hint(name: str, known: set[str] | frozenset[str]) -> str:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        return f" (did you mean '{close[0]}'?)" if close else ""

    intents = set(catalog.intents)
    domains = (
        KNOWN_DOMAINS | {e.domain for e in home.entities} | {d for i in catalog.intents.values() for d in i.domains}
    )
    entities = {e.id for e in home.entities}
    problems = [
        (f"policy.intents.{name}", f"'{name}' is no intent of the catalog{hint(name, intents)}")
        for name in settings.intents
        if name not in intents
    ]
    problems += [
        (f"policy.domains.{name}", f"'{name}' is no domain{hint(name, domains)}")
        for name in settings.domains
        if name not in domains
    ]
    problems += [
        (f"policy.entities.{name}", f"'{name}' is no entity of the home{hint(name, entities)}")
        for name in settings.entities
        if name not in entities
    ]
    return problems


_RANK: dict[str, int] = {"allow": 0, "confirm": 1, "deny": 2}
_DEFAULT_DOMAINS: dict[str, Safety] = {"lock": "confirm", "alarm_control_panel": "confirm"}
_DEFAULT_COVER_CLASSES: dict[str, Safety] = {"garage": "confirm", "gate": "confirm", "door": "confirm"}


class Policy:
    """allow | confirm | deny for a command: the strictest rule that applies wins.

    Per target, an entity rule overrides a device-class rule, which overrides a domain rule, which
    overrides the built-in defaults (locks, alarm panels, garage doors, gates and door covers:
    confirm; not for read-only intents). The intent rule (config, else the catalog's ``safety``)
    is then combined with the targets' rules.
    """

    def __init__(self, settings: PolicySettings, catalog: Catalog | None = None, home: Home | None = None) -> None:
        self.settings = settings
        self._catalog = catalog
        self._classes = {e.id: e.device_class for e in home.entities} if home is not None else {}

    def _target_rule(self, entity_id: str, read_only: bool) -> tuple[Safety, str] | None:
        s = self.settings
        domain, device_class = domain_of(entity_id), self._classes.get(entity_id)
        if entity_id in s.entities:
            return s.entities[entity_id], f"entity {entity_id}"
        if device_class and device_class in s.device_classes:
            return s.device_classes[device_class], f"device class {device_class}"
        if domain in s.domains:
            return s.domains[domain], f"domain {domain}"
        if not s.defaults or read_only:
            return None
        if domain == "cover" and device_class in _DEFAULT_COVER_CLASSES:
            return _DEFAULT_COVER_CLASSES[device_class], f"default for {device_class} covers"
        if domain in _DEFAULT_DOMAINS:
            return _DEFAULT_DOMAINS[domain], f"default for {domain}"
        return None

    def decide(self, command: Command) -> tuple[Safety, str]:
        """The decision and the rule that made it (for the log and the error text)."""
        rules: list[tuple[Safety, str]] = []
        if command.intent in self.settings.intents:
            rules.append((self.settings.intents[command.intent], f"intent {command.intent}"))
        elif self._catalog is not None and command.intent in self._catalog.intents:
            rules.append((self._catalog.intents[command.intent].safety, f"catalog safety of {command.intent}"))
        read_only = command.intent in self.settings.read_only
        rules.extend(r for r in (self._target_rule(t, read_only) for t in command.targets) if r is not None)
        if not rules:
            return "allow", "no rule"
        return max(rules, key=lambda r: _RANK[r[0]])
