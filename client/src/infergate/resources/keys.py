"""``client.keys``: your tenant's API keys (admin scope)."""

from collections.abc import AsyncIterator, Iterator, Sequence

from infergate._config import Settings
from infergate._drivers import AsyncDriver, SyncDriver
from infergate._flow import Flow, call, call_as
from infergate._request import ApiRequest, post, segment
from infergate.models import CreatedKey, Key
from infergate.resources._paging import pages


def create_flow(settings: Settings, name: str, scopes: Sequence[str]) -> Flow[CreatedKey]:
    # The server does not deduplicate key creation (no Idempotency-Key): a second key from a replayed request
    # would be live and its secret lost, so it is retried only when surely not sent.
    body = {"name": name, "scopes": list(scopes)}
    request = post("/v1/keys", body, replayable=False)
    return (yield from call_as(settings, request, CreatedKey.model_validate))


def list_flow(settings: Settings, *, limit: int | None, page_size: int | None, cursor: str | None) -> Flow[None]:
    return pages(settings, "/v1/keys", Key.model_validate, limit=limit, page_size=page_size, cursor=cursor)


def revoke_flow(settings: Settings, key_id: str) -> Flow[None]:
    yield from call(settings, ApiRequest("DELETE", f"/v1/keys/{segment(key_id)}"))


class Keys:
    """API keys (``/v1/keys``)."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    def create(self, name: str, scopes: Sequence[str]) -> CreatedKey:
        """A new key with ``scopes`` (``predict``, ``admin``); its secret ``.key`` is shown this once."""
        return self._driver.run(create_flow(self._settings, name, scopes))

    def list(
        self, *, limit: int | None = None, page_size: int | None = None, cursor: str | None = None
    ) -> Iterator[Key]:
        """Your tenant's active keys (without their secrets), following ``next`` cursors; at most ``limit``."""
        return self._driver.iterate(list_flow(self._settings, limit=limit, page_size=page_size, cursor=cursor))

    def revoke(self, key_id: str) -> None:
        """Revoke a key: it stops working at once."""
        self._driver.run(revoke_flow(self._settings, key_id))


class AsyncKeys:
    """API keys (``/v1/keys``), async flavour."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    async def create(self, name: str, scopes: Sequence[str]) -> CreatedKey:
        """A new key with ``scopes`` (``predict``, ``admin``); its secret ``.key`` is shown this once."""
        return await self._driver.run(create_flow(self._settings, name, scopes))

    def list(
        self, *, limit: int | None = None, page_size: int | None = None, cursor: str | None = None
    ) -> AsyncIterator[Key]:
        """Your tenant's active keys (without their secrets), following ``next`` cursors; at most ``limit``."""
        return self._driver.iterate(list_flow(self._settings, limit=limit, page_size=page_size, cursor=cursor))

    async def revoke(self, key_id: str) -> None:
        """Revoke a key: it stops working at once."""
        await self._driver.run(revoke_flow(self._settings, key_id))
