"""The tracing comparison's table: ratios against the tracing-off import, and unmeasured options said so."""

from bench.tracing_cost import table

FIGURES = {
    "import_off": 0.400,
    "import_otel": 0.460,
    "otel_size": [10 * 1024 * 1024, 3 * 1024 * 1024],
    "invocation_off": 2e-6,
    "invocation_otel": 1.2e-3,
}


def test_ratios_are_against_the_tracing_off_import() -> None:
    rows = table(FIGURES | {"import_xray": 0.600, "xray_size": [1024 * 1024, 512 * 1024]}, 11, 200).splitlines()
    [otel] = [row for row in rows if row.startswith("| OpenTelemetry")]
    [xray] = [row for row in rows if row.startswith("| X-Ray")]
    assert "| 460 ms | 1.15x | 10.00 MiB | 3.00 MiB | 1200 µs" in otel
    assert "| 600 ms | 1.50x | 1.00 MiB | 0.50 MiB |" in xray


def test_what_was_not_measured_is_never_given_a_figure() -> None:
    rows = table(FIGURES, 11, 200).splitlines()
    [xray] = [row for row in rows if row.startswith("| X-Ray")]
    [adot] = [row for row in rows if row.startswith("| ADOT")]
    assert xray.count("not measured") == 4
    assert "ms" not in adot
    assert "MiB" not in adot
