"""One small error family; the CLI maps each class to an exit code in one place."""

from __future__ import annotations


class CampaignError(Exception):
    """Base: a refusal or invalid input, reported as one line (exit 1)."""

    exit_code = 1


class InvalidInput(CampaignError, ValueError):
    """The input itself is wrong (bad code, unknown city, malformed file)."""


class NotFound(CampaignError, LookupError):
    """A named thing (enterprise, actor, campaign) does not exist."""


class Refused(CampaignError):
    """A rule refused the action (window, guard, permission)."""

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class ConcurrentChange(Refused):
    """Someone else changed the record between our read and our write."""


class IntegrityFailure(CampaignError):
    """The audit log does not verify (exit 3)."""

    exit_code = 3
