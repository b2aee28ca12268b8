"""The home: floors, areas and entities, loaded from YAML.

The file shape is Home Assistant's intent test fixtures (``tests/en/_fixtures.yaml`` of the
``intents`` repository), so those fixtures load unchanged; speech-to-phrase's ``fixtures_en.yaml``,
which nests ``areas`` and ``entities`` under ``fixtures:``, loads too. A key a home does not have
(a typo such as ``entites:``) and a home without entities are errors naming the file and the key,
never an empty home; so is a near miss of a field in an entry ("domian"), while other keys of
Home Assistant's fixtures (``is_exposed``) are ignored. Entities may omit ``id`` (made from domain
and name, numbered ``_2``, ``_3`` when that id is taken; an id given twice is an error) or
``domain`` (taken from the id); ``device_class`` may sit at the top level or
under ``attributes``; ``state`` is a string or Home Assistant's ``{in: ..., out: ...}`` pair.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from edge_assistant.errors import HomeError
from edge_assistant.yamlfile import LocatedValueError, load_yaml, locate_key, validate_model

__all__ = ["KNOWN_DOMAINS", "Area", "Entity", "Floor", "Home", "load_home", "slugify"]


def slugify(text: str) -> str:
    """Return a Home Assistant style object id: lowercase words joined by ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# Home Assistant's entity domains: a domain near one of them and not one itself is a typo
# ("lite"); a policy rule for one is no typo even where the home has none.
KNOWN_DOMAINS = frozenset(
    {
        "ai_task",
        "air_quality",
        "alarm_control_panel",
        "alert",
        "assist_satellite",
        "automation",
        "binary_sensor",
        "button",
        "calendar",
        "camera",
        "climate",
        "conversation",
        "counter",
        "cover",
        "date",
        "datetime",
        "device_tracker",
        "event",
        "fan",
        "geo_location",
        "group",
        "humidifier",
        "image",
        "image_processing",
        "input_boolean",
        "input_button",
        "input_datetime",
        "input_number",
        "input_select",
        "input_text",
        "lawn_mower",
        "light",
        "lock",
        "mailbox",
        "media_player",
        "notify",
        "number",
        "person",
        "plant",
        "proximity",
        "remote",
        "scene",
        "schedule",
        "script",
        "select",
        "sensor",
        "siren",
        "stt",
        "sun",
        "switch",
        "tag",
        "text",
        "time",
        "timer",
        "todo",
        "tts",
        "update",
        "vacuum",
        "valve",
        "wake_word",
        "water_heater",
        "weather",
        "zone",
    }
)


def _clean_name(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be blank")
    return value.strip() if isinstance(value, str) else value


def _no_misspelt_keys(model: type[BaseModel], data: Any) -> Any:
    """``data`` unchanged, unless a key of it is a near miss of one of ``model``'s fields
    ("domian", "aliasses"): that is an error naming both. Other keys are ignored, as Home
    Assistant's fixtures carry keys of their own (``is_exposed``, ``light_supports_color``)."""
    if isinstance(data, dict):
        for key in data:
            if isinstance(key, str) and key not in model.model_fields:
                close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.75)
                if close:
                    raise LocatedValueError(f"unknown key '{key}'; did you mean '{close[0]}'?", (key,))
    return data


class Floor(BaseModel):
    """A floor of the home."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    id: str = ""
    aliases: tuple[str, ...] = ()

    _name = field_validator("name", mode="before")(_clean_name)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        return _no_misspelt_keys(cls, data)

    @model_validator(mode="after")
    def _default_id(self) -> Floor:
        if not self.id:
            object.__setattr__(self, "id", slugify(self.name))
        return self


class Area(BaseModel):
    """An area (room) of the home, optionally on a floor (by floor id or name)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    id: str = ""
    floor: str | None = None
    aliases: tuple[str, ...] = ()

    _name = field_validator("name", mode="before")(_clean_name)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        return _no_misspelt_keys(cls, data)

    @model_validator(mode="after")
    def _default_id(self) -> Area:
        if not self.id:
            object.__setattr__(self, "id", slugify(self.name))
        return self


class Entity(BaseModel):
    """A controllable or readable thing: a light, a lock, a sensor ..."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    id: str = ""
    domain: str = ""
    area: str | None = None
    aliases: tuple[str, ...] = ()
    device_class: str | None = None
    state: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    _id_given: bool = PrivateAttr(default=False)  # the file named the id (not made from domain and name)

    _name = field_validator("name", mode="before")(_clean_name)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        return _no_misspelt_keys(cls, data)

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return str(value.get("in", value.get("out", "")))
        return None if value is None else str(value)

    @model_validator(mode="after")
    def _derive(self) -> Entity:
        if not self.domain and "." in self.id:
            object.__setattr__(self, "domain", self.id.split(".", 1)[0])
        if not self.domain:
            raise ValueError("an entity needs a 'domain' or an 'id' of the form domain.object_id")
        if self.domain not in KNOWN_DOMAINS:
            same_start = sorted(d for d in KNOWN_DOMAINS if d[0] == self.domain[0])  # "lite": light, not climate
            close = difflib.get_close_matches(self.domain, same_start, n=1, cutoff=0.6)
            if close:  # "lite.porch": no command would ever find it as a light
                where = "domain" if "domain" in self.model_fields_set else "id"
                raise LocatedValueError(f"unknown domain '{self.domain}'; did you mean '{close[0]}'?", (where,))
        self._id_given = bool(self.id)
        if not self.id:
            object.__setattr__(self, "id", f"{self.domain}.{slugify(self.name)}")
        if self.device_class is None and "device_class" in self.attributes:
            object.__setattr__(self, "device_class", str(self.attributes["device_class"]))
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)


class Home(BaseModel):
    """Floors, areas and entities, with lookups by spoken name."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    language: str = "en"
    floors: tuple[Floor, ...] = ()
    areas: tuple[Area, ...] = ()
    entities: tuple[Entity, ...] = ()

    @model_validator(mode="after")
    def _check_refs(self) -> Home:
        floor_keys = {f.id for f in self.floors} | {f.name.lower() for f in self.floors}
        for i, area in enumerate(self.areas):
            if area.floor is not None and area.floor not in floor_keys and area.floor.lower() not in floor_keys:
                raise LocatedValueError(f"{area.name}: unknown floor '{area.floor}'", ("areas", i, "floor"))
        area_keys = {a.id for a in self.areas} | {a.name.lower() for a in self.areas}
        for i, entity in enumerate(self.entities):
            if entity.area is not None and entity.area not in area_keys and entity.area.lower() not in area_keys:
                raise LocatedValueError(f"{entity.name}: unknown area '{entity.area}'", ("entities", i, "area"))
        object.__setattr__(self, "entities", _unique_ids(self.entities))
        return self

    def area(self, key: str | None) -> Area | None:
        """Find an area by id, name or alias (case-insensitive)."""
        if key is None:
            return None
        low = key.lower()
        for area in self.areas:
            if area.id == key or low in (n.lower() for n in (area.name, *area.aliases)):
                return area
        return None

    def floor(self, key: str | None) -> Floor | None:
        """Find a floor by id, name or alias (case-insensitive)."""
        if key is None:
            return None
        low = key.lower()
        for floor in self.floors:
            if floor.id == key or low in (n.lower() for n in (floor.name, *floor.aliases)):
                return floor
        return None

    def entities_named(self, name: str) -> list[Entity]:
        """Entities whose name or an alias equals ``name`` (case-insensitive)."""
        low = name.lower()
        return [e for e in self.entities if low in (n.lower() for n in e.names)]

    def area_of(self, entity: Entity) -> Area | None:
        """The area an entity is in, if any."""
        return self.area(entity.area)

    def floor_of(self, area: Area | None) -> Floor | None:
        """The floor an area is on, if any."""
        return self.floor(area.floor) if area is not None else None

    @property
    def domains(self) -> set[str]:
        """Domains present in the home."""
        return {e.domain for e in self.entities}


def _unique_ids(entities: tuple[Entity, ...]) -> tuple[Entity, ...]:
    """``entities`` with one id each. An id the file gives twice is an error (a command would act
    on both devices as one); an id made from domain and name that is taken ("Ceiling Light" in
    two rooms) gets ``_2``, ``_3`` ... as Home Assistant numbers its entity ids."""
    given = {e.id: i for i, e in reversed(list(enumerate(entities))) if e._id_given}
    for i, entity in enumerate(entities):
        if entity._id_given and given[entity.id] != i:
            first = entities[given[entity.id]]
            why = f"{entity.name}: id '{entity.id}' is given to {first.name} (entities[{given[entity.id]}]) too"
            raise LocatedValueError(why, ("entities", i, "id"))
    taken = set(given)
    unique = []
    for entity in entities:
        if not entity._id_given:
            new_id, n = entity.id, 1
            while new_id in taken:
                n += 1
                new_id = f"{entity.id}_{n}"
            if new_id != entity.id:
                entity = entity.model_copy(update={"id": new_id})
            taken.add(new_id)
        unique.append(entity)
    return tuple(unique)


# The keys of a home file: Home Assistant's fixture keys. Its ``timers`` and ``media`` (the state
# that HA's timer and media tests start from) are accepted and not used.
_HOME_KEYS = ("language", "floors", "areas", "entities")
_UNUSED_KEYS = ("timers", "media")
_NESTING_KEY = "fixtures"  # speech-to-phrase's shape: language at the top, the home under it
_SHAPE = "a home has 'language', 'floors', 'areas' and 'entities', at the top level or under 'fixtures:'"


def _home_data(raw: Any, path: Path, node: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The home's mapping from a file's data, and where it sits in the file (``fixtures`` or top)."""
    if not isinstance(raw, dict):
        what = "empty" if raw is None else f"a {type(raw).__name__}, not a mapping"
        raise HomeError(f"the file is {what}; {_SHAPE}", path=str(path))
    data = {k: v for k, v in raw.items() if k != _NESTING_KEY}
    prefix: tuple[str, ...] = ()
    if _NESTING_KEY in raw:
        nested = raw[_NESTING_KEY]
        if not isinstance(nested, dict):
            line = locate_key(node, [_NESTING_KEY])
            raise HomeError(f"expected a mapping; {_SHAPE}", path=str(path), line=line, field=_NESTING_KEY)
        both = sorted(set(nested) & set(data))
        if both:
            why, line = "given both at the top level and under 'fixtures:'", locate_key(node, [both[0]])
            raise HomeError(f"{why}; {_SHAPE}", path=str(path), line=line, field=str(both[0]))
        data.update(nested)
        prefix = (_NESTING_KEY,)
    for key in data:
        if key not in _HOME_KEYS + _UNUSED_KEYS:
            loc = [*prefix, str(key)] if key in raw.get(_NESTING_KEY, {}) else [str(key)]
            line = locate_key(node, loc)
            raise HomeError(f"unknown key '{key}'; {_SHAPE}", path=str(path), line=line, field=".".join(loc))
    return data, prefix


def load_home(path: str | Path) -> Home:
    """Load a home YAML file; errors name the file, line and field.

    The home must have at least one entity: an empty home would reject every command as naming
    nothing, which hides a wrong file.
    """
    path = Path(path)
    raw, node = load_yaml(path, HomeError)
    data, prefix = _home_data(raw, path, node)
    home = validate_model(path, node, Home, data, HomeError, prefix)
    if not home.entities:
        where = ".".join([*prefix, "entities"])
        raise HomeError(f"the home has no entities; list its devices under '{where}:'", path=str(path), field=where)
    return home
