"""Generated homes with varied area and device names, so a tuned model grounds on names it is given."""

from __future__ import annotations

import random
from typing import Any

from edge_assistant.home import Home

__all__ = ["generate_home"]

_AREAS = (
    "kitchen", "living room", "bedroom", "master bedroom", "guest room", "bathroom", "office", "study",
    "garage", "hallway", "dining room", "basement", "attic", "porch", "garden", "nursery", "kids room",
    "laundry room", "den", "family room", "lounge", "patio", "workshop", "playroom", "gym", "library",
    "entrance", "loft", "utility room", "pantry", "balcony", "sunroom", "cellar", "back yard", "front yard",
    "toilet", "closet", "emma's room", "jack's room", "upstairs hallway", "shed", "studio", "media room",
)  # fmt: skip
_LIGHTS = (
    "light",
    "lights",
    "lamp",
    "ceiling light",
    "floor lamp",
    "desk lamp",
    "spotlights",
    "led strip",
    "chandelier",
    "night light",
    "reading lamp",
    "pendant",
    "downlights",
    "wall light",
    "bulb",
    "hue lights",
    "lifx bulb",
    "nanoleaf",
    "govee strip",
)
_PLUGS = (
    "plug",
    "socket",
    "heater",
    "kettle",
    "fan heater",
    "christmas tree",
    "fairy lights",
    "humidifier",
    "dehumidifier",
    "printer",
    "monitor",
    "speaker plug",
    "fountain",
    "aquarium",
    "space heater",
    "charger",
    # Smart plug brands people call their plugs by.
    "wemo",
    "wemo plug",
    "kasa plug",
    "smart plug",
    "smart socket",
    "outlet",
    "power strip",
    "shelly",
    "sonoff",
    "tapo plug",
)
_COVERS = (
    ("blinds", "blind"),
    ("curtains", "curtain"),
    ("shades", "shade"),
    ("shutters", "shutter"),
    ("garage door", "garage"),
    ("window", "window"),
    ("awning", "awning"),
    ("gate", "gate"),
)
_MEDIA = ("tv", "television", "speaker", "sonos", "stereo", "radio", "soundbar", "chromecast", "apple tv")
_VACUUMS = ("roomba", "robot vacuum", "vacuum", "robo", "dusty", "rover", "roborock", "mopper", "cleaner bot")
_PEOPLE = ("anna", "tom", "mia", "leo", "grandpa", "sophie", "max", "nina")


def _entity(rng: random.Random, name: str, domain: str, area: str, **extra: Any) -> dict[str, Any]:
    slug = "_".join(name.lower().replace("'", "").split())
    return {"name": name, "id": f"{domain}.{slug}_{rng.randrange(10_000)}", "area": area, **extra}


def _area_devices(rng: random.Random, area: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(_LIGHTS)
        name = rng.choice((f"{area} {kind}", kind, f"{rng.choice(_PEOPLE)}'s {kind}", f"{area} {kind}"))
        out.append(_entity(rng, name.title(), "light", area))
    if rng.random() < 0.5:
        plug = rng.choice((f"{area} {rng.choice(_PLUGS)}", rng.choice(_PLUGS)))
        out.append(_entity(rng, plug.title(), "switch", area))
    if rng.random() < 0.3:
        plural, cls = rng.choice(_COVERS)
        out.append(_entity(rng, f"{area} {plural}".title(), "cover", area, device_class=cls))
    if rng.random() < 0.2:
        out.append(_entity(rng, f"{area} fan".title(), "fan", area))
    if rng.random() < 0.2:
        media = rng.choice((f"{area} {rng.choice(_MEDIA)}", rng.choice(_MEDIA)))
        out.append(_entity(rng, media.title(), "media_player", area))
    if rng.random() < 0.15:
        out.append(_entity(rng, f"{area} thermostat".title(), "climate", area))
    return out


def generate_home(rng: random.Random) -> Home:
    """A random home: 3-8 areas, lights in each, and a mix of plugs, covers, fans, locks, media, a vacuum."""
    areas = rng.sample(_AREAS, rng.randint(3, 8))
    entities: list[dict[str, Any]] = []
    for area in areas:
        entities.extend(_area_devices(rng, area))
    first = areas[0]
    entities.append(_entity(rng, rng.choice(_VACUUMS).title(), "vacuum", first))
    entities.append(_entity(rng, rng.choice(("Front Door", "Back Door", "Side Door", "Door Lock")), "lock", first))
    entities.append(_entity(rng, rng.choice(("Thermostat", "Heating", "Air Conditioner")), "climate", first))
    entities.append(_entity(rng, rng.choice(_MEDIA).title(), "media_player", first))
    entities.append(_entity(rng, rng.choice(("Ceiling Fan", "Fan", "Tower Fan")), "fan", first))
    seen: set[str] = set()
    unique = []
    for entity in entities:
        if entity["name"].lower() not in seen:
            seen.add(entity["name"].lower())
            unique.append(entity)
    return Home.model_validate(
        {
            "areas": [{"name": a.title(), "id": "_".join(a.replace("'", "").split())} for a in areas],
            "entities": [{**e, "area": "_".join(e["area"].replace("'", "").split())} for e in unique],
        }
    )
