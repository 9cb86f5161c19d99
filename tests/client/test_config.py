"""Where the client points, which key it sends, and what it sends with every request."""

import httpx
import pytest
from infergate import APIConnectionError, ConfigurationError, Infergate, __version__

from tests.client.fakes import API_KEY, BASE_URL, FakeApi, ok


def test_the_base_url_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERGATE_BASE_URL", "https://env.example/")
    monkeypatch.setenv("INFERGATE_API_KEY", "igk_fromtheenvironment")
    api = FakeApi().on("GET", "https://env.example/v1/webhooks/secret", ok({"key": "whsec_abc"}))

    with Infergate(http_client=httpx.Client(transport=httpx.MockTransport(api))) as client:
        secret = client.webhooks.secret()

    assert client.base_url == "https://env.example"
    assert secret.key == "whsec_abc"
    assert api.requests[0].headers["authorization"] == "Bearer igk_fromtheenvironment"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERGATE_BASE_URL", "https://env.example")
    monkeypatch.setenv("INFERGATE_API_KEY", "igk_fromtheenvironment")

    client = Infergate("https://given.example", "igk_given")

    assert client.base_url == "https://given.example"
    client.close()


@pytest.mark.parametrize(
    ("url", "key", "named"), [(None, "igk_x", "INFERGATE_BASE_URL"), (BASE_URL, None, "INFERGATE_API_KEY")]
)
def test_a_missing_setting_is_a_clear_error_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, url: str | None, key: str | None, named: str
) -> None:
    monkeypatch.delenv("INFERGATE_BASE_URL", raising=False)
    monkeypatch.delenv("INFERGATE_API_KEY", raising=False)

    with pytest.raises(ConfigurationError, match=named):
        Infergate(url, key)


def test_a_base_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        Infergate("api.example", API_KEY)


def test_every_api_request_names_the_client_and_carries_the_key() -> None:
    api = FakeApi().on("GET", "/v1/models", ok({"results": []}))

    api.client().models.list()

    headers = api.requests[0].headers
    assert headers["user-agent"] == f"infergate-python/{__version__}"
    assert headers["authorization"] == f"Bearer {API_KEY}"


def test_a_given_http_client_is_left_open_and_an_own_one_is_closed() -> None:
    given = httpx.Client(transport=httpx.MockTransport(FakeApi()))

    with Infergate(BASE_URL, API_KEY, http_client=given):
        pass
    own = Infergate(BASE_URL, API_KEY)
    own.close()

    assert not given.is_closed
    assert own._http.is_closed


@pytest.mark.parametrize("given", [f"{API_KEY}\n", f"  {API_KEY}\r\n", f"\t{API_KEY}"])
def test_whitespace_around_the_key_is_dropped(given: str) -> None:
    api = FakeApi().on("GET", "/v1/models", ok({"results": []}))

    Infergate(BASE_URL, given, http_client=httpx.Client(transport=httpx.MockTransport(api))).models.list()

    assert api.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_whitespace_around_the_key_from_the_environment_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERGATE_API_KEY", f"{API_KEY}\n")

    assert Infergate(BASE_URL)._settings.api_key == API_KEY


@pytest.mark.parametrize("secret", ["igk_SECRETé", "igk_SECRET\x00x", "igk_SEC RET", "igk_SECRET\u2028x", "   "])
def test_a_key_that_cannot_be_a_header_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Infergate(BASE_URL, secret)

    assert "SECRET" not in str(raised.value)
    assert "SEC RET" not in str(raised.value)


def test_the_key_is_not_in_the_settings_repr() -> None:
    client = Infergate(BASE_URL, API_KEY)

    assert API_KEY not in repr(client._settings)
    client.close()


@pytest.mark.parametrize(
    "error",
    [
        httpx.LocalProtocolError(f"Illegal header value b'Bearer {API_KEY}\\n'"),
        httpx.ConnectError(f"failed with Authorization: Bearer {API_KEY}"),
        httpx.ReadTimeout(f"timed out sending Bearer {API_KEY}"),
    ],
)
def test_a_connection_error_never_quotes_the_key(error: Exception) -> None:
    api = FakeApi().on("GET", "/v1/models", error)

    with pytest.raises(APIConnectionError) as raised:
        api.client(max_retries=0).models.list()

    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__  # a traceback does not show httpx's error either
