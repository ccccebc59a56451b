"""The frozen base model every scenario and option model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable, unknown fields refused: a typo in a scenario is an error, never ignored.

    Strict types: ``repeat: true`` or ``count: "3"`` is refused, not read as a number (lax
    validation would take ``true`` for 1). Units, signals and vars parse their own text.

    A model may list ``not_templates: ClassVar[frozenset[str]]``: its string fields that are
    names or paths, not templates, so braces in them are not checked.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
