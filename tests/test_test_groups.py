"""The suite's own grouping: tests marked ``xdist_group`` share something outside the process (the
FreeRADIUS tables, a Redis database index) and must run on one test process, one after another.
``--dist loadgroup`` keeps them together by a suffix it adds to their node ids; a pytest that ignores
that suffix spreads them over every process, and they race each other (see pyproject.toml)."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("grouping-check")
def test_loadgroup_keeps_a_marked_test_in_its_group(request):
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@grouping-check"), (
        "--dist loadgroup did not group this test: this pytest and pytest-xdist do not work together"
    )
