"""The strict base every configuration section derives from: unknown keys are errors, not silently ignored."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port: 1-65535."""
