"""Per-tenant signing secrets: created once, rotated with a grace period."""

from shared.webhooks.models import WebhookSecrets
from shared.webhooks.service import ROTATION_GRACE, SecretService
from shared.webhooks.signing import generate_secret


class SecretsOnly:
    """The secret half of the DeliveryStore port, in memory, with the same conditional semantics."""

    def __init__(self) -> None:
        self.stored: dict[str, WebhookSecrets] = {}
        self.lose_next_race = False

    def secrets(self, tenant: str) -> WebhookSecrets | None:
        return self.stored.get(tenant)

    def save_secrets(self, tenant: str, secrets: WebhookSecrets, replacing: WebhookSecrets | None) -> bool:
        if self.lose_next_race:  # someone else wrote first
            self.lose_next_race = False
            self.stored[tenant] = WebhookSecrets(current=generate_secret())
            return False
        current = self.stored.get(tenant)
        if (current.current if current else None) != (replacing.current if replacing else None):
            return False
        self.stored[tenant] = secrets
        return True


def _service(store: SecretsOnly, now: float = 1_000.0) -> SecretService:
    return SecretService(store, clock=lambda: now)  # type: ignore[arg-type]  # the secret methods suffice


def test_a_secret_is_created_once_and_then_stable() -> None:
    store = SecretsOnly()

    first = _service(store).current("acme")
    again = _service(store).current("acme")

    assert first == again
    assert first.current.startswith("whsec_")
    assert first.signing_keys(now=0) == [first.current]


def test_concurrent_first_uses_agree_on_the_winner() -> None:
    store = SecretsOnly()
    store.lose_next_race = True

    mine = _service(store).current("acme")

    assert mine == store.stored["acme"]


def test_rotation_keeps_the_old_secret_signing_for_the_grace_period() -> None:
    store = SecretsOnly()
    old = _service(store).current("acme").current

    rotated = _service(store, now=1_000.0).rotate("acme")

    assert rotated.current != old
    assert rotated.previous == old
    assert rotated.signing_keys(now=1_000.0 + ROTATION_GRACE.total_seconds() - 1) == [rotated.current, old]
    assert rotated.signing_keys(now=1_000.0 + ROTATION_GRACE.total_seconds() + 1) == [rotated.current]


def test_tenants_have_their_own_secrets() -> None:
    store = SecretsOnly()

    assert _service(store).current("acme") != _service(store).current("globex")
