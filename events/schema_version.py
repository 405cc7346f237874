"""Is the database at the schema this code expects? For ``/ready``.

The code's head revisions are read from the migration scripts' ``revision`` / ``down_revision``
lines (parsed, not imported): loading Alembic and SQLAlchemy in the server would cost ~20 MB of
memory that ``wuchuang serve`` keeps out of it (it migrates in a forked child). A test holds this
equal to Alembic's own ``ScriptDirectory.get_heads()``. The database's revisions are read from
``alembic_version`` through the server's own connection.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from events.db import conn

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def _revision_ids(value: ast.expr | None) -> set[str]:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.Tuple | ast.List):
        return {e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


@lru_cache(maxsize=1)
def script_heads(versions_dir: Path = VERSIONS_DIR) -> frozenset[str]:
    """The revisions no other revision follows (one, unless the history has unmerged branches)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions_dir.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr | None = None
            if isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            if not isinstance(target, ast.Name):
                continue
            if target.id == "revision":
                revisions |= _revision_ids(value)
            elif target.id == "down_revision":
                parents |= _revision_ids(value)
    return frozenset(revisions - parents)


@dataclass(frozen=True, slots=True)
class SchemaState:
    database: frozenset[str]  # what alembic_version holds (empty: never migrated)
    code: frozenset[str]  # the scripts' heads

    @property
    def at_head(self) -> bool:
        return bool(self.code) and self.database == self.code


async def schema_state() -> SchemaState:
    """The database's revisions beside the code's heads. A database without ``alembic_version``
    (never migrated) has none; other database errors propagate."""
    connection = conn()
    if connection.capabilities.dialect == "sqlite":
        exists = await connection.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
    else:
        exists = await connection.execute_query_dict("SELECT to_regclass('alembic_version') AS name")
        exists = [row for row in exists if row["name"] is not None]
    revisions: frozenset[str] = frozenset()
    if exists:
        rows = await connection.execute_query_dict("SELECT version_num FROM alembic_version")
        revisions = frozenset(str(row["version_num"]) for row in rows)
    return SchemaState(database=revisions, code=script_heads())
