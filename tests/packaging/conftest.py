"""Built-artifact test helpers: a size report collected by the tests and printed at the end of the run."""

import pytest

# architecture -> built folder (function or layer logical id) -> unzipped bytes
SizeReport = dict[str, dict[str, int]]
_SIZES = pytest.StashKey[SizeReport]()


@pytest.fixture(scope="session")
def size_report(pytestconfig: pytest.Config) -> SizeReport:
    """Where the build tests put the size of each built function and layer, per architecture."""
    return pytestconfig.stash.setdefault(_SIZES, {})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    sizes = config.stash.get(_SIZES, {})
    if not sizes:
        return
    terminalreporter.section("built artifact sizes (unzipped)")
    for arch, folders in sorted(sizes.items()):
        for name, size in sorted(folders.items()):
            terminalreporter.write_line(f"{arch:8} {name:40} {size / 2**20:9.2f} MiB {size:>12,} bytes")
