"""Officer roles: who may do what on the officer pages.

Three roles, each including the one before it (an agency's supervisor also issues; its
administrator can do everything):

- ``officer`` issues credentials;
- ``supervisor`` also suspends, reinstates and revokes them and approves another officer's
  request under the four-eyes rule;
- ``administrator`` also manages API tokens, signing keys, trust lists, officer accounts and
  their sessions.

A role is kept in its own table beside the accounts (:func:`role_table`), so that a service
without roles (the verifier) keeps its officer table as it is. An account without a role row
has the least role, ``officer``: a missing row never grants more.
"""

from __future__ import annotations

from typing import Final, Literal, cast

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, insert, select, update

from vcred.errors import UsageError

Role = Literal["officer", "supervisor", "administrator"]
ROLES: Final[tuple[Role, ...]] = ("officer", "supervisor", "administrator")
#: The role of an account made without one (least privilege).
DEFAULT_ROLE: Final[Role] = "officer"

Permission = Literal[
    "issue",
    "suspend",
    "reinstate",
    "revoke",
    "message",
    "approve",
    "tokens",
    "keys",
    "trust-list",
    "officers",
    "sessions",
]
_OFFICER: Final[frozenset[Permission]] = frozenset({"issue"})
_SUPERVISOR: Final[frozenset[Permission]] = _OFFICER | {
    "suspend",
    "reinstate",
    "revoke",
    "message",
    "approve",
}
_ADMINISTRATOR: Final[frozenset[Permission]] = _SUPERVISOR | {
    "tokens",
    "keys",
    "trust-list",
    "officers",
    "sessions",
}
PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    "officer": _OFFICER,
    "supervisor": _SUPERVISOR,
    "administrator": _ADMINISTRATOR,
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def parse_role(value: str) -> Role:
    """``value`` as a role; raises UsageError naming the roles otherwise."""
    for role in ROLES:
        if value == role:
            return role
    raise UsageError(f"unknown role {value!r}; roles: {', '.join(ROLES)}")


def role_table(metadata: MetaData, prefix: str = "") -> Table:
    return Table(
        f"{prefix}officer_roles",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("role", String(16), nullable=False),
    )


class OfficerRoles:
    """The role of each officer account (the account itself: :mod:`vcred_service.officers`)."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table

    def role(self, name: str) -> Role:
        """The officer's role; :data:`DEFAULT_ROLE` without a row (or an unknown value)."""
        if "\x00" in name:
            return DEFAULT_ROLE
        with self.engine.connect() as conn:
            found = conn.execute(
                select(self.table.c.role).where(self.table.c.name == name)
            ).scalar_one_or_none()
        return cast(Role, found) if found in ROLES else DEFAULT_ROLE

    def roles(self) -> dict[str, Role]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.table.c.name, self.table.c.role)).all()
        return {str(r.name): cast(Role, r.role) for r in rows if r.role in ROLES}

    def set(self, conn: Connection, name: str, role: Role) -> Role | None:
        """Give ``name`` the role inside the caller's transaction; the role it had (None: no
        row)."""
        table = self.table
        before = conn.execute(select(table.c.role).where(table.c.name == name)).scalar_one_or_none()
        if before is None:
            conn.execute(insert(table).values(name=name, role=role))
        else:
            conn.execute(update(table).where(table.c.name == name).values(role=role))
        return cast(Role, before) if before in ROLES else None
