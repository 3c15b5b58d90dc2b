"""The developer's pre-commit hooks run what CI lints, so a commit that passes them passes CI's lint."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _ci_lint_commands() -> set[str]:
    """The commands of CI's steps that check code without running the suite."""
    text = (ROOT / ".ci" / "run").read_text()
    steps = re.findall(r'^step "[^"]+" (\.venv/bin/\S+.*)$', text, flags=re.MULTILINE)
    commands = {line.strip() for line in steps}
    if "migrations_check" in text:
        commands.add(".venv/bin/python manage.py makemigrations --check --dry-run")
    return commands


def _hook_commands() -> set[str]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = {hook["entry"] for repo in config["repos"] for hook in repo["hooks"]}
    return {entry.replace(" --force-exclude", "") for entry in entries}


def test_every_lint_step_of_ci_is_a_pre_commit_hook():
    ci = _ci_lint_commands()
    assert {".venv/bin/ruff check .", ".venv/bin/mypy ."} <= ci  # the parsing still finds the steps
    hooks = _hook_commands()
    # ruff's hooks get the changed files instead of "."; the others check the whole project.
    missing = {
        command for command in ci if command.removesuffix(" .") not in {h.removesuffix(" .") for h in hooks}
    }
    assert missing == set(), "add these CI lint steps to .pre-commit-config.yaml"
