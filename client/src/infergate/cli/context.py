"""What a command's handler gets: its arguments, where to write, and the client (made on first use)."""

import argparse
from collections.abc import Callable
from typing import TextIO

from infergate import Infergate
from infergate.cli.output import Output

# Makes the client from --base-url and --api-key (None: the library reads the environment). Tests pass
# one building the client over an httpx.MockTransport.
ClientFactory = Callable[[str | None, str | None], Infergate]


def default_client(base_url: str | None, api_key: str | None) -> Infergate:
    return Infergate(base_url=base_url, api_key=api_key)


class Context:
    def __init__(self, args: argparse.Namespace, out: Output, factory: ClientFactory, stdin: TextIO) -> None:
        self.args = args
        self.out = out
        self.stdin = stdin
        self._factory = factory
        self._client: Infergate | None = None

    @property
    def client(self) -> Infergate:
        if self._client is None:
            self._client = self._factory(self.args.base_url, self.args.api_key)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
