"""What a Lambda container builds once and keeps for its life: settings, AWS clients, services.

Every such cache is declared here: a factory with :func:`per_container` (``functools.cache`` that
registers itself), any other cache with :func:`on_forget`. :func:`forget` drops all of them at once
(tests and the local stack switch environment and endpoints; a SnapStart restore must not keep the
snapshot's connections), so a new factory cannot be left out of the reset.
"""

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper  # subscriptable for the type checker only

T = TypeVar("T")

_factories: list["_lru_cache_wrapper[Any]"] = []
_other_caches: list[Callable[[], None]] = []


def per_container(factory: Callable[[], T]) -> "_lru_cache_wrapper[T]":
    """``functools.cache`` for a zero-argument factory, forgotten by :func:`forget`."""
    cached = cache(factory)
    _factories.append(cached)
    return cached


def on_forget(clear: Callable[[], None]) -> Callable[[], None]:
    """Register a cache that is not a factory (a dict of settings, a library's cache) with :func:`forget`."""
    _other_caches.append(clear)
    return clear


def factories() -> tuple["_lru_cache_wrapper[Any]", ...]:
    """The factories registered so far (those of the modules imported so far)."""
    return tuple(_factories)


def forget() -> None:
    """Drop everything built or read so far: the next call of each factory builds anew."""
    for factory in _factories:
        factory.cache_clear()
    for clear in _other_caches:
        clear()
