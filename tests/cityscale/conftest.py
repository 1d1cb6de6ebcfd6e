"""Say in the summary whether the city-scale topology ran on PostgreSQL (``-q`` hides the skip reasons)."""

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, int] = {}
    reasons: set[str] = set()
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if "tests/cityscale/" not in getattr(report, "nodeid", ""):
                continue
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "skipped" and isinstance(report.longrepr, tuple):
                reasons.add(str(report.longrepr[2]))
    if counts:
        ran = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        why = f" ({'; '.join(sorted(reasons))})" if reasons else ""
        terminalreporter.write_line(f"city-scale topology — {ran}{why}")
