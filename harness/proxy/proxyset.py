"""One trial's proxies by (name, instance), on one loop thread that ``close`` always ends."""

from __future__ import annotations

from collections.abc import Iterable

from harness.proxy.server import Proxy, ProxyHost, Target


class ProxySet:
    """The proxies a scenario declares, one per instance (or one shared by all)."""

    def __init__(self) -> None:
        self._host: ProxyHost | None = None
        self._proxies: dict[tuple[str, int], Proxy] = {}

    def open(
        self, name: str, instances: Iterable[int], port: int, target: Target, host: str
    ) -> Proxy:
        """Listen on ``host:port`` now, for ``instances`` (several when they share ports)."""
        if self._host is None:
            self._host = ProxyHost()
        proxy = self._host.open(name, port, target, host)
        for instance in instances:
            self._proxies[(name, instance)] = proxy
        return proxy

    def get(self, name: str, instance: int = 0) -> Proxy:
        try:
            return self._proxies[(name, instance)]
        except KeyError:
            known = ", ".join(sorted({n for n, _ in self._proxies})) or "none"
            raise KeyError(
                f"no proxy {name!r} for instance {instance} (declared: {known})"
            ) from None

    def close(self) -> list[str]:
        """Stop listening, close every connection, end the loop thread. Idempotent.
        Returns what went wrong inside the loop meanwhile, if anything (for the record)."""
        host, self._host = self._host, None
        self._proxies.clear()
        if host is None:
            return []
        host.close()
        return list(host.errors)
