"""The frozen base model every scenario and option model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable, unknown fields refused: a typo in a scenario is an error, never ignored.

    A model may list ``not_templates: ClassVar[frozenset[str]]``: its string fields that are
    names or paths, not templates, so braces in them are not checked.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
