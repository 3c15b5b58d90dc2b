"""The application's one error for broken business rules."""

from __future__ import annotations


class ApplicationError(Exception):
    """A rule the staff broke or a state that forbids the action; ``message`` is fit to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
