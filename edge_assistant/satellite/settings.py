"""``[satellite]``: which hub a satellite talks to and how it speaks replies (pure pydantic)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SatelliteSettings"]


class SatelliteSettings(BaseModel):
    """``[satellite]``: the hub's URI, this satellite's name, and where replies are spoken."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hub: str = Field(default="tcp://127.0.0.1:10800", description="the Wyoming asr + handle server")
    name: str = Field(default="", description="sent to the hub as satellite_id (empty: the host name)")
    # auto: the hub's tts when it has one, else the local [tts] engine; hub / local: only that; none: silent.
    speak: Literal["auto", "hub", "local", "none"] = "auto"
    timeout_s: float = Field(default=15.0, gt=0.0, le=300.0, description="wait for each answer of the hub")
