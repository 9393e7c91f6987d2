"""Passwords and lock-out (pure): the policy, argon2id hashing, and when repeated failures lock a name
for one client address.

A password is taken in NFKC (a full-width letter typed with a Chinese input method is the letter) and
must be at least 12 characters. Hashes are argon2id (`argon2-cffi`'s defaults). Five failed logins for
one name from one client address within 15 minutes lock that name for that address for 15 minutes from
the fifth; attempts during a lock are recorded as `locked`, not as failures, so they neither extend
nor renew it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from workflow.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing a megabyte on every login attempt is a denial of service, not a password
LOCK_AFTER = 5  # failures …
LOCK_WINDOW = timedelta(minutes=15)  # … within this, lock for
LOCK_FOR = timedelta(minutes=15)

_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
# Verified against when the name is unknown or has no password: a failure costs the same either way.
_DUMMY = _HASHER.hash("campaign-no-such-password")


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str) -> str:
    """The password as it will be hashed, or InvalidInput (the message never quotes the password)."""
    pw = normalise(password)
    if len(pw) < MIN_LENGTH:
        raise InvalidInput(f"密码太短：至少 {MIN_LENGTH} 个字符（当前 {len(pw)} 个），请换一个更长的密码 "
                           "(password too short)")
    if len(pw) > MAX_LENGTH:
        raise InvalidInput(f"密码太长：至多 {MAX_LENGTH} 个字符 (password too long)")
    if not pw.strip():
        raise InvalidInput("密码不能全是空白字符 (blank password)")
    return pw


def hash_password(password: str) -> str:
    """argon2id hash of a password that passed `check_policy`."""
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Does `password` match the stored hash? With no hash, a dummy is verified (same cost) and False."""
    pw = normalise(password)
    if len(pw) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, pw) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The hash was made with weaker parameters than today's: rehash it at the next successful login."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return False


def locked_until(failures: Sequence[datetime], *, after: int = LOCK_AFTER, window: timedelta = LOCK_WINDOW,
                 lock: timedelta = LOCK_FOR) -> datetime | None:
    """When the lock made by these failures (one name, one client, since its last success or unlock;
    oldest first) ends, or None if they make none. `after` failures within `window` lock for `lock`
    from the last of them; the count starts again after a lock."""
    until: datetime | None = None
    run: list[datetime] = []
    for at in failures:
        if until is not None and at < until:
            continue  # failures during a lock are not counted (the service records them as `locked`)
        run = [t for t in run if at - t < window] + [at]
        if len(run) >= after:
            until, run = at + lock, []
    return until
