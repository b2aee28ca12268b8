"""Number words, percent, degrees and durations."""

import pytest

from edge_assistant.nlu.normalize import normalize_text, numbers_in

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dim the lights to thirty percent", "dim the lights to 30 percent"),
        ("set it to twenty-five", "set it to 25"),
        ("a hundred percent", "100 percent"),
        ("set 68° please!", "set 68 degrees please"),
        ("turn on a light", "turn on a light"),
        ("one hour and five minutes", "1 hour and 5 minutes"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    """Number words become digits; symbols become words; plain words stay."""
    assert normalize_text(text) == expected


def test_numbers_in_keeps_decimals() -> None:
    """Decimal temperatures survive normalisation."""
    assert numbers_in(normalize_text("set to 21.5 degrees")) == [21.5]
