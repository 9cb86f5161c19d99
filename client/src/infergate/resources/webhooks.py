"""``client.webhooks``: the tenant's webhook signing secret."""

from infergate._config import Settings
from infergate._drivers import AsyncDriver, SyncDriver
from infergate._flow import Flow, call_as
from infergate._request import ApiRequest, post
from infergate.models import WebhookSecret


def secret_flow(settings: Settings) -> Flow[WebhookSecret]:
    return (yield from call_as(settings, ApiRequest("GET", "/v1/webhooks/secret"), WebhookSecret.model_validate))


def rotate_flow(settings: Settings) -> Flow[WebhookSecret]:
    # Rotating twice would retire the secret the first rotation made: retried only when surely not sent.
    request = post("/v1/webhooks/secret/rotate", replayable=False)
    return (yield from call_as(settings, request, WebhookSecret.model_validate))


class Webhooks:
    """The webhook signing secret (``/v1/webhooks/secret``)."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    def secret(self) -> WebhookSecret:
        """The secret (``whsec_...``) your receivers verify signatures with."""
        return self._driver.run(secret_flow(self._settings))

    def rotate(self) -> WebhookSecret:
        """A new secret (admin); the old one keeps signing, as a second signature, for 24 h."""
        return self._driver.run(rotate_flow(self._settings))


class AsyncWebhooks:
    """The webhook signing secret (``/v1/webhooks/secret``), async flavour."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    async def secret(self) -> WebhookSecret:
        """The secret (``whsec_...``) your receivers verify signatures with."""
        return await self._driver.run(secret_flow(self._settings))

    async def rotate(self) -> WebhookSecret:
        """A new secret (admin); the old one keeps signing, as a second signature, for 24 h."""
        return await self._driver.run(rotate_flow(self._settings))
