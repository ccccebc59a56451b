"""Every fault family and whether this host can inject it: what ``chaos doctor`` lists.

A family is available when every kind in it is; else each refusing kind says why. The
resource family also says which cgroup hierarchy each controller would use (v2 or v1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.faults import resources
from harness.faults.base import FaultPlugin
from harness.system.limits import Backend, Controller

__all__ = ["FamilyStatus", "families"]


@dataclass(frozen=True)
class FamilyStatus:
    """One family: its kinds, why some cannot be injected here, and details to show."""

    name: str
    kinds: tuple[str, ...]
    refused: dict[str, str]
    """Kind name → reason, for the kinds this host cannot inject."""
    details: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return not self.refused

    def text(self) -> str:
        """``available`` or the reasons, then the details (one line)."""
        if self.available:
            head = "available"
        elif len(self.refused) == len(self.kinds) and len(set(self.refused.values())) == 1:
            head = next(iter(self.refused.values()))
        else:
            head = "; ".join(f"{k}: {why}" for k, why in self.refused.items())
        return head + "".join(f"; {d}" for d in self.details)


def _resource_details(
    kinds: Iterable[str], hierarchy: Callable[[Controller], Backend | str]
) -> tuple[str, ...]:
    out: list[str] = []
    for kind in kinds:
        controller = resources.CONTROLLERS.get(kind)
        if controller is None:
            continue
        found = hierarchy(controller)
        if not isinstance(found, str):
            out.append(f"{kind}: {found.describe()}")
    return tuple(out)


def families(
    plugins: Iterable[FaultPlugin],
    hierarchy: Callable[[Controller], Backend | str] = resources.hierarchy,
) -> list[FamilyStatus]:
    """The families of ``plugins`` in registration order, each asked of this host once."""
    grouped: dict[str, list[FaultPlugin]] = {}
    for plugin in plugins:
        grouped.setdefault(plugin.family, []).append(plugin)
    out: list[FamilyStatus] = []
    for name, members in grouped.items():
        refused = {p.name: why for p in members if (why := p.available()) is not None}
        kinds = tuple(p.name for p in members)
        details = _resource_details(kinds, hierarchy) if name == resources.FAMILY else ()
        out.append(FamilyStatus(name, kinds, refused, details))
    return out
