"""Named leases in the database, so one replica at a time runs a job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Lock, utcnow


def acquire(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Take the lease `name` for `holder` unless someone else holds an unexpired one."""
    now = utcnow()
    result = session.execute(
        update(Lock)
        .where(Lock.name == name, or_(Lock.expires_at < now, Lock.holder == holder))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return True
    try:
        with session.begin_nested():
            session.add(Lock(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    session.execute(delete(Lock).where(Lock.name == name, Lock.holder == holder))
