"""The one transaction rule of the services: a use case commits once, on success, and rolls
back on any error (a DomainError included), so a refused request leaves nothing half-written.

    @use_case
    def cancel_appointment(...): ...        # or: with transaction(): ...

Helpers inside a use case never commit. A use case called from another joins it (only the
outermost commits), so use cases compose. External calls (Stripe, SMTP) happen before the
transaction opens or after it commits; where one truly needs two commits (capture, then
confirm) the function says why.

`commit_on` names refusals that are recorded before they are raised (a failed sign-in is
audited and counted even though the caller gets an error): their work is committed, then the
error goes on.

A locking read (`with_for_update`) always returns the row as it is once locked: an object the
session loaded earlier is refreshed by it, not handed back with the values read before the
lock (which another transaction may have changed while this one waited).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from app.extensions import db

_DEPTH = "carebook_transaction_depth"
P = ParamSpec("P")
R = TypeVar("R")
_AFTER_COMMIT: list[Callable[[], object]] = []


@event.listens_for(Session, "do_orm_execute")
def _locked_reads_are_fresh(state: ORMExecuteState) -> None:
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.update_execution_options(populate_existing=True)


def after_each_use_case(hook: Callable[[], object]) -> Callable[[], object]:
    """Register `hook` to run after every outermost use case commits (the outbox delivers
    what the use case wrote, when no queue does it). A hook must not raise."""
    if hook not in _AFTER_COMMIT:
        _AFTER_COMMIT.append(hook)
    return hook


def run_after_commit_hooks() -> None:
    """What runs after a use case commits, for a step that committed by itself (the payment
    steps, outbox.hands_on): the outbox and the webhooks hand on what it wrote."""
    for hook in _AFTER_COMMIT:
        hook()


def _commit(*, keep_loaded: bool = False) -> None:
    session = db.session()
    expiring = session.expire_on_commit
    session.expire_on_commit = expiring and not keep_loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring
    run_after_commit_hooks()


@contextmanager
def transaction(
    *, commit_on: tuple[type[BaseException], ...] = (), keep_loaded: bool = False
) -> Iterator[None]:
    """Run the block as one use case: commit when it returns, roll back when it raises.
    `keep_loaded`: the rows loaded and written stay as they are after the commit instead of
    being read again on first use (a hot path that answers with what it just wrote)."""
    info = db.session.info
    depth = info.get(_DEPTH, 0)
    info[_DEPTH] = depth + 1
    try:
        yield
    except commit_on:
        info[_DEPTH] = depth
        if depth == 0:
            _commit()
        raise
    except BaseException:
        info[_DEPTH] = depth
        if depth == 0:
            db.session.rollback()
        raise
    info[_DEPTH] = depth
    if depth == 0:
        _commit(keep_loaded=keep_loaded)


@contextmanager
def checks_only() -> Iterator[None]:
    """Checks made before an external call: rolled back however the block ends (nothing was
    written, and any row lock is released before the network is used)."""
    depth = db.session.info.get(_DEPTH, 0)
    try:
        yield
    finally:
        if depth == 0:
            db.session.rollback()


def use_case(
    fn: Callable[P, R] | None = None, *, commit_on: tuple[type[BaseException], ...] = ()
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of `transaction()`: the whole function is one use case."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with transaction(commit_on=commit_on):
                return function(*args, **kwargs)

        return run

    return decorate(fn) if fn is not None else decorate
