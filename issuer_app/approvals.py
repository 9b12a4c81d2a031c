"""The four-eyes rule (``IssuerConfig.four_eyes``): one officer asks, a second one decides.

Under the rule a revocation and the signing of a trust list are *requests*: a row in the
``approvals`` table and an ``approval-request`` entry in the audit chain. Nothing happens
until another officer with the right role approves it (``approval-grant``, then the action
itself, audited as usual under the approver's name) or rejects it (``approval-reject``). The
officer who asked can never decide their own request.

A request is claimed (``pending`` → ``approving``) in one conditional UPDATE, so two approvers
clicking at once act once. The action and the request's end (``approved`` with the outcome)
commit in one transaction, and only while the claim still holds: an approval happens entirely
or not at all. When the action fails (the credential was revoked meanwhile, the trust list no
longer passes its schema) the request ends ``failed`` with the reason, recorded in the same
transaction. When it fails without an answer about the action (the database went away, a bug)
the request is ``pending`` again (``approval-interrupted``), for an approver to decide once
more; a claim whose process died (nobody left to reopen it) lapses after
:data:`APPROVING_LEASE` and is reopened the same way, so no request stays ``approving`` for good.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from vcred.errors import VcredError
from vcred.status.listcred import format_datetime
from vcred_service.problems import ProblemError
from vcred_service.roles import Permission, allows

if TYPE_CHECKING:
    from issuer_app.service import Issuer

Action = Literal["revoke", "trust-list"]
#: What the approver's role must allow, per action (the requester's needs the same).
APPROVER_PERMISSION: Final[dict[Action, Permission]] = {
    "revoke": "approve",
    "trust-list": "trust-list",
}
#: What the requester's role must still allow when the request is carried out.
REQUESTER_PERMISSION: Final[dict[Action, Permission]] = {
    "revoke": "revoke",
    "trust-list": "trust-list",
}
PENDING: Final = "pending"
APPROVING: Final = "approving"
#: How long a claim (``approving``) holds: carrying out an approval takes well under a second,
#: so a claim this old belongs to a process that died, and its request is decided again.
APPROVING_LEASE: Final = timedelta(minutes=5)
_log = logging.getLogger("issuer_app")


class Approvals:
    """The four-eyes requests of one issuer."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.table = issuer.store.t.approvals

    def request(
        self,
        action: Action,
        *,
        officer: str,
        target: str | None,
        audit_target: str | None,
        payload: Mapping[str, Any],
        summary: str,
    ) -> str:
        """Record ``officer``'s request (audited); its id. Raises ProblemError 409 when the
        same action on the same target is already waiting."""
        table = self.table
        request_id = str(uuid.uuid4())
        store = self.issuer.store
        self.reopen_abandoned()
        with store.engine.begin() as conn:
            if (
                target is not None
                and conn.execute(
                    select(table.c.id).where(
                        table.c.action == action,
                        table.c.target == target,
                        table.c.state.in_((PENDING, APPROVING)),
                    )
                ).first()
            ):
                raise ProblemError(
                    409,
                    "Conflict",
                    "this is already waiting for a second officer's approval",
                    code="APPROVAL_PENDING",
                )
            at = self.issuer.stamp()
            conn.execute(
                insert(table).values(
                    id=request_id,
                    action=action,
                    target=target,
                    payload=json.dumps(
                        {**payload, "auditTarget": audit_target},
                        ensure_ascii=False,
                        sort_keys=True,
                    ),
                    summary=summary[:512],
                    requested_by=officer,
                    requested_at=at,
                    state=PENDING,
                )
            )
            store.append_audit(
                conn,
                at=at,
                actor=f"officer:{officer}",
                action="approval-request",
                target=audit_target,
                details={"request": request_id, "action": action, "summary": summary[:512]},
            )
        return request_id

    def get(self, request_id: str) -> Row[Any] | None:
        if len(request_id) > 36:
            return None
        self.reopen_abandoned()
        with self.issuer.store.engine.connect() as conn:
            return conn.execute(select(self.table).where(self.table.c.id == request_id)).first()

    def listed(self, *, pending: bool = True, limit: int = 100) -> list[Row[Any]]:
        """Requests waiting (or, with ``pending`` False, decided), the latest first."""
        table = self.table
        where = table.c.state == PENDING if pending else table.c.state != PENDING
        self.reopen_abandoned()
        with self.issuer.store.engine.connect() as conn:
            return list(
                conn.execute(
                    select(table).where(where).order_by(table.c.requested_at.desc()).limit(limit)
                )
            )

    def pending_for(self, target: str) -> Row[Any] | None:
        table = self.table
        self.reopen_abandoned()
        with self.issuer.store.engine.connect() as conn:
            return conn.execute(
                select(table).where(table.c.target == target, table.c.state == PENDING)
            ).first()

    def decide(self, request_id: str, *, officer: str, approve: bool) -> Row[Any]:
        """Approve (then carry out) or reject a request; the request as it ends.

        The caller has checked ``officer``'s role (:data:`APPROVER_PERMISSION`). Raises
        ProblemError 404 (no such request), 403 ``SELF_APPROVAL`` (the requester's own), 409
        (decided already).
        """
        row = self.get(request_id)
        if row is None:
            raise ProblemError(404, "Not Found", "no such request")
        if row.requested_by == officer:
            raise ProblemError(
                403,
                "Forbidden",
                "a request needs a second officer: you cannot decide your own",
                code="SELF_APPROVAL",
            )
        table = self.table
        store = self.issuer.store
        with store.engine.begin() as conn:
            at = self.issuer.stamp()
            claimed = conn.execute(
                update(table)
                .where(table.c.id == request_id, table.c.state == PENDING)
                .values(
                    state=APPROVING if approve else "rejected", decided_by=officer, decided_at=at
                )
            )
            if claimed.rowcount != 1:
                raise ProblemError(409, "Conflict", "this request was decided already")
            store.append_audit(
                conn,
                at=at,
                actor=f"officer:{officer}",
                action="approval-grant" if approve else "approval-reject",
                target=_audit_target(row),
                details={"request": row.id, "action": row.action, "requestedBy": row.requested_by},
            )
        if approve:
            self._carry_out(_Claim(row, officer, at))
        found = self.get(request_id)
        if found is None:  # decided requests are never deleted
            raise ProblemError(404, "Not Found", "no such request")
        return found

    def reopen_abandoned(self) -> None:
        """Reopen every claim older than :data:`APPROVING_LEASE` (its process died between
        the claim and the action's commit), audited as ``approval-interrupted``."""
        table = self.table
        store = self.issuer.store
        lapsed = format_datetime(self.issuer.now() - APPROVING_LEASE)
        stale = table.c.state == APPROVING, table.c.decided_at < lapsed
        with store.engine.connect() as conn:  # the common case: nothing to reopen, no write
            if conn.execute(select(table.c.id).where(*stale).limit(1)).first() is None:
                return
        with store.engine.begin() as conn:
            for row in conn.execute(select(table).where(*stale)).all():
                self._reopen_in(conn, row, "system", claimed_at=row.decided_at, reason="abandoned")

    def _carry_out(self, claim: _Claim) -> None:
        row = claim.row
        payload = json.loads(row.payload)
        actor = f"officer:{claim.officer}"

        def approved(conn: Connection, answer: Mapping[str, Any]) -> None:
            outcome = (
                json.dumps({"status": answer["status"]})
                if row.action == "revoke"
                else json.dumps(answer, ensure_ascii=False)
            )
            if not self._end_in(conn, claim, "approved", outcome):
                raise _ClaimLostError  # the action rolls back with it

        try:
            self._check_requester(row)
            if row.action == "revoke":
                self.issuer.change_status(
                    row.target, "revoked", actor=actor, within=approved, by_record=True
                )
            else:
                self.issuer.issue_trust_list(payload["body"], actor=actor, within=approved)
        except _ClaimLostError:
            raise ProblemError(
                409,
                "Conflict",
                "this request was reopened while it was carried out: nothing was done; "
                "decide it again",
                code="APPROVAL_REOPENED",
            ) from None
        except (ProblemError, VcredError) as exc:
            reason = exc.detail if isinstance(exc, ProblemError) else exc.message
            with self.issuer.store.engine.begin() as conn:  # ended and recorded together
                if self._end_in(conn, claim, "failed", reason):
                    self.issuer.audit_event(
                        actor,
                        "approval-failed",
                        _audit_target(row),
                        {"request": row.id, "action": row.action, "reason": reason[:512]},
                        conn=conn,
                    )
            return
        except BaseException:
            self._reopen(claim, actor)
            raise

    def _check_requester(self, row: Row[Any]) -> None:
        """Four eyes are two officers allowed to act when it is done: raise ProblemError 409
        ``REQUESTER_WITHDRAWN`` when the requester's account was disabled or their role no
        longer allows what they asked for (the request then ends ``failed``)."""
        name = row.requested_by
        needed = REQUESTER_PERMISSION[row.action]
        if not self.issuer.officer_active(name) or not allows(self.issuer.roles.role(name), needed):
            raise ProblemError(
                409,
                "Conflict",
                f"the requester {name!r} is no longer allowed to {needed}: a second officer "
                "alone cannot carry this out; ask again",
                code="REQUESTER_WITHDRAWN",
            )

    def _reopen(self, claim: _Claim, actor: str) -> None:
        """Put a claimed request back to ``pending``: carrying it out was interrupted. Best
        effort: when this fails too (the database is away), the first error is the one told,
        and the claim lapses after :data:`APPROVING_LEASE`."""
        try:
            with self.issuer.store.engine.begin() as conn:
                self._reopen_in(conn, claim.row, actor, claimed_at=claim.at)
        except Exception:  # the interruption's own error goes on instead
            _log.exception(
                "approval request %s stays approving: it could not be reopened", claim.row.id
            )

    def _reopen_in(
        self,
        conn: Connection,
        row: Row[Any],
        actor: str,
        *,
        claimed_at: str | None = None,
        reason: str | None = None,
    ) -> None:
        table = self.table
        claim = [table.c.id == row.id, table.c.state == APPROVING]
        if claimed_at is not None:
            claim.append(table.c.decided_at == claimed_at)
        reopened = conn.execute(
            update(table).where(*claim).values(state=PENDING, decided_by=None, decided_at=None)
        )
        if reopened.rowcount == 1:
            self.issuer.store.append_audit(
                conn,
                at=self.issuer.stamp(),
                actor=actor,
                action="approval-interrupted",
                target=_audit_target(row),
                details={
                    "request": row.id,
                    "action": row.action,
                    **({"reason": reason} if reason else {}),
                },
            )

    def _end_in(self, conn: Connection, claim: _Claim, state: str, outcome: str) -> bool:
        """End the claimed request in ``conn``; False when the claim no longer holds (it
        lapsed and was reopened, perhaps decided again)."""
        table = self.table
        ended = conn.execute(
            update(table)
            .where(
                table.c.id == claim.row.id,
                table.c.state == APPROVING,
                table.c.decided_by == claim.officer,
                table.c.decided_at == claim.at,
            )
            .values(state=state, outcome=outcome)
        )
        return bool(ended.rowcount == 1)


@dataclass(frozen=True)
class _Claim:
    """A request this process claimed: the row, who claimed it and when (the claim's key)."""

    row: Row[Any]
    officer: str
    at: str


class _ClaimLostError(Exception):
    """The claim lapsed before the action committed: roll the action back."""


def _audit_target(row: Row[Any]) -> str | None:
    summary = json.loads(row.payload)
    target = summary.get("auditTarget")
    return str(target) if target else None
