"""One reset forgets everything a container keeps: no factory may cache outside ``shared.kernel.container``."""

import ast
from pathlib import Path

import pytest

from shared import wiring
from shared.adapters import clients
from shared.kernel import container
from tools.template import ROOT

# Cached zero-argument functions that build a constant from code alone (never from the environment or an
# endpoint), so there is nothing for a reset to forget.
CONSTANTS = {
    ("shared/api/routes.py", "_patterns"),
    ("shared/registry/schema_rules.py", "_meta_format_checker"),
    ("shared/registry/schemas.py", "_validator_class"),
    ("shared/runtimes/external_data.py", "_model_class"),
}
CACHE_DECORATORS = {"cache", "lru_cache", "cached_property"}


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _zero_argument_caches(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        takes_nothing = not (arguments.posonlyargs or arguments.args or arguments.kwonlyargs)
        if takes_nothing and any(_decorator_name(d) in CACHE_DECORATORS for d in node.decorator_list):
            found.add(node.name)
    return found


def test_every_cached_factory_is_registered_with_the_container() -> None:
    """A factory cached with plain ``functools.cache`` would survive ``reset()``: settings, clients or a service
    built for another test, another endpoint or the snapshotted container."""
    sources = [*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    unregistered = {
        (str(path.relative_to(ROOT)), name) for path in sources for name in _zero_argument_caches(path)
    } - CONSTANTS
    assert unregistered == set(), "use shared.kernel.container.per_container"


@pytest.mark.parametrize("module", [wiring, clients], ids=lambda module: module.__name__)
def test_the_factories_of_the_composition_root_and_the_clients_are_registered(module: object) -> None:
    cached = {value for value in vars(module).values() if hasattr(value, "cache_clear")}
    assert cached
    assert cached <= set(container.factories())


@pytest.mark.usefixtures("stack")
def test_reset_forgets_every_service_and_client() -> None:
    built = {factory: factory() for factory in container.factories()}

    wiring.reset()

    assert all(factory.cache_info().currsize == 0 for factory in built)
    assert all(factory() is not old for factory, old in built.items())
