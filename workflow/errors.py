"""One small error family; the CLI maps each class to an exit code in one place. An error carries
the ids it is about (`code`, `actor`, `seq`…) and, where the message is always the same, builds it
from them: `NotFound(code=…)` says the enterprise is not registered."""

from __future__ import annotations


class CampaignError(Exception):
    """Base: a refusal or invalid input, reported as one line (exit 1)."""

    exit_code = 1


class InvalidInput(CampaignError, ValueError):
    """The input itself is wrong (bad code, unknown city, malformed file)."""


class NotFound(CampaignError, LookupError):
    """A named thing (enterprise, actor, campaign, contact, request…) does not exist. Without a
    message, one is built from the id: an enterprise's `code`, else an `actor`'s name."""

    def __init__(self, message: str | None = None, *, code: str | None = None, actor: str | None = None,
                 key: int | str | None = None) -> None:
        self.code, self.actor, self.key = code, actor, key
        if message is None:
            if code is not None:
                message = f"企业 {code} 未登记 (unknown enterprise)"
            elif actor is not None:
                message = f"操作人 '{actor}' 未登记 (unknown actor)"
            else:
                message = f"{key} 不存在 (not found)"
        super().__init__(message)


class Refused(CampaignError):
    """A rule refused the action (window, guard, permission)."""

    def __init__(self, message: str, *, rule: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.code = code


class ConcurrentChange(Refused):
    """Someone else changed the record between our read and our write."""

    def __init__(self, message: str | None = None, *, rule: str = "concurrency", code: str | None = None) -> None:
        super().__init__(message if message is not None else f"企业 {code} 已被他人修改，请重试",
                         rule=rule, code=code)


class IntegrityFailure(CampaignError):
    """The audit log does not verify (exit 3); `seq` and `code` name the entry, when one is at fault."""

    exit_code = 3

    def __init__(self, message: str, *, seq: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.seq = seq
        self.code = code
