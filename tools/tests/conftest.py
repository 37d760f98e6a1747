"""Shared test helpers: max-|Δ| assertions and a per-file table of the measured differences.

Every golden comparison goes through ``check``, which asserts ``max|Δ| <= tol`` and records the
value; ``pytest_terminal_summary`` prints the table at the end of the run (the numbers quoted in
``tools/README.md`` come from it).
"""

import numpy as np
import pytest

_MEASURED = {}


def max_abs(actual, expected):
    """``max |actual - expected|`` in float64 (0 for empty arrays)."""
    a = np.asarray(actual, np.float64)
    b = np.asarray(expected, np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.max(np.abs(a - b))) if a.size else 0.0


@pytest.fixture
def check(request):
    """``check(label, actual, expected, tol)``: assert max|Δ| <= tol and record it for the summary."""
    test_id = request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name

    def _check(label, actual, expected, tol):
        diff = max_abs(actual, expected)
        row = _MEASURED.setdefault(test_id, {})
        row[label] = (max(diff, row.get(label, (0.0, tol))[0]), tol)
        assert diff <= tol, f"{test_id} {label}: max|Δ| = {diff:.3e} > tolerance {tol:.0e}"
        return diff

    return _check


def pytest_terminal_summary(terminalreporter):
    """Print every recorded max|Δ| with its tolerance, grouped by test case."""
    if not _MEASURED:
        return
    terminalreporter.section("max |Δ| measured (tolerance)")
    for case in sorted(_MEASURED):
        cells = ", ".join(f"{k} {v:.1e} ({t:.0e})" for k, (v, t) in sorted(_MEASURED[case].items()))
        terminalreporter.write_line(f"{case}: {cells}")
