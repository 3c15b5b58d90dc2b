"""The benchmark scripts still start: their imports follow the code they measure.

A benchmark is run by hand, rarely; an import that moved would otherwise be found only on the day
someone needs its figures. ``--help`` imports everything and parses the arguments, touching no data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(path.name for path in BENCH.glob("*.py") if "argparse" in path.read_text())


def test_the_benchmarks_are_found():
    assert "overdue_pass.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_benchmark_script_starts(script):
    completed = subprocess.run(  # noqa: S603
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=BENCH.parent,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "usage:" in completed.stdout
