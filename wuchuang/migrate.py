"""Alembic driven from code, and the Tortoise models' schema as Alembic sees it.

``upgrade_to_head`` is what ``wuchuang serve`` runs before it listens. ``model_metadata`` is what
``migrations/env.py`` compares a database with for ``alembic revision --autogenerate`` and
``alembic check``: Tortoise creates its schema in a scratch database of the target's dialect (a
temporary SQLite file, or a temporary schema on the same PostgreSQL server), SQLAlchemy reflects
it, and the column types are rewritten into dialect-neutral ones, so that a revision written on
SQLite also builds the PostgreSQL schema Tortoise expects, and the other way round.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from events.db import prepare_files
from events.settings import Settings

log = logging.getLogger(__name__)

# The package is installed editable, so alembic.ini and migrations/ sit next to this package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"

# Session-level PostgreSQL advisory lock held while migrating, so that several workers starting at
# once migrate one after the other instead of racing on the same DDL.
MIGRATION_LOCK_KEY = 0x7775636875616E67 >> 1  # "wuchuang", made to fit a signed bigint

T = TypeVar("T")


# --- Running Alembic -------------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """A SQLAlchemy URL with the driver Alembic uses: psycopg 3 for PostgreSQL, whichever of
    postgres://, postgresql:// or postgresql+asyncpg:// it was given as. SQLite URLs pass unchanged
    (SQLAlchemy's form: sqlite:////absolute/path.db)."""
    sa_url = make_url(url)
    backend = sa_url.get_backend_name()
    if backend == "sqlite":
        return url
    if backend in ("postgres", "postgresql"):
        return sa_url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {url!r} (use sqlite or postgresql)")


def database_url(settings: Settings) -> str:
    """The settings' database as a SQLAlchemy URL; for the default SQLite file, its folder is made."""
    if settings.dialect == "sqlite":
        prepare_files(settings)
    return settings.sqlalchemy_url


def alembic_config(url: str, *, model_metadata: bool | None = None) -> Config:
    """An Alembic Config for the project's alembic.ini, aimed at ``url``.

    ``model_metadata`` says whether env.py should build the models' schema (needed only to compare:
    autogenerate and check). ``None`` lets env.py decide, which for code means "yes".
    """
    if not ALEMBIC_INI.is_file():
        raise RuntimeError(
            f"{ALEMBIC_INI} not found: the migrations ship with the source tree, "
            "so install wuchuang editable (pip install -e .) or run from a checkout"
        )
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = normalize_url(url)
    if model_metadata is not None:
        config.attributes["model_metadata"] = model_metadata
    return config


def upgrade_to_head(settings: Settings) -> None:
    """Bring the settings' database to the newest revision. Does nothing when it is already there."""
    command.upgrade(alembic_config(database_url(settings), model_metadata=False), "head")


def current_revision(settings: Settings) -> str | None:
    """The revision the settings' database is at; None when it has never been migrated."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            return None
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def keep_sqlite_autoincrement() -> None:
    """Make SQLAlchemy's reflection of SQLite tables keep AUTOINCREMENT (it does not by itself).

    Alembic's batch mode rebuilds a SQLite table from its reflection; without this, any revision
    that rebuilds a table would silently let SQLite reuse ids. Idempotent.
    """
    if not sa.event.contains(sa.Table, "column_reflect", _reflect_sqlite_autoincrement):
        sa.event.listen(sa.Table, "column_reflect", _reflect_sqlite_autoincrement)


def _reflect_sqlite_autoincrement(inspector: sa.Inspector, table: sa.Table, column_info: Any) -> None:
    if inspector.dialect.name != "sqlite" or not column_info.get("primary_key"):
        return
    if table.dialect_options["sqlite"]["autoincrement"]:
        return
    query = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?"
    bind = inspector.bind
    if isinstance(bind, sa.Connection):
        create_sql = bind.exec_driver_sql(query, (table.name,)).scalar()
    else:
        with bind.connect() as connection:
            create_sql = connection.exec_driver_sql(query, (table.name,)).scalar()
    if create_sql and re.search(r"\bAUTOINCREMENT\b", create_sql, re.IGNORECASE):
        table.dialect_kwargs["sqlite_autoincrement"] = True


def head_revision() -> str | None:
    """The newest revision in migrations/versions."""
    config = Config(str(ALEMBIC_INI))
    return ScriptDirectory.from_config(config).get_current_head()


# --- The models' schema ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnSpec:
    sqlite_sql: str | None  # Tortoise's SQL type per dialect (SQL_TYPE), e.g. "INT" / "BOOL"
    postgres_sql: str | None
    generated_pk: bool
    comment: str | None  # as PostgreSQL stores it
    on_delete: str | None = None  # of the foreign key this column holds
    unique: bool = False


@dataclass(frozen=True)
class _TableSpec:
    comment: str | None
    columns: dict[str, _ColumnSpec]

    @property
    def autoincrement(self) -> bool:
        return any(column.generated_pk for column in self.columns.values())


_metadata_cache: dict[tuple[Any, ...], sa.MetaData] = {}
_metadata_lock = threading.Lock()


def model_metadata(url: str) -> sa.MetaData:
    """The schema Tortoise generates from the models, reflected from a scratch database of the same
    dialect as ``url`` (for PostgreSQL, a temporary schema in that database, dropped afterwards).

    Column types are dialect-neutral (e.g. ``JSON`` with a ``JSONB`` variant for PostgreSQL), comments
    and SQLite's AUTOINCREMENT are carried over from the models, and constraint names Tortoise leaves
    to the database are left unnamed. Cached per dialect (and server) for the life of the process.
    """
    sa_url = make_url(normalize_url(url))
    backend = sa_url.get_backend_name()
    key: tuple[Any, ...] = (backend,) if backend == "sqlite" else (backend, sa_url.host, sa_url.port)
    with _metadata_lock:
        if key not in _metadata_cache:
            if backend == "sqlite":
                _metadata_cache[key] = _sqlite_model_metadata()
            elif backend == "postgresql":
                _metadata_cache[key] = _postgres_model_metadata(sa_url)
            else:
                raise ValueError(f"no scratch database for dialect {backend!r}")
        return _metadata_cache[key]


def generate_model_schema(url: str) -> None:
    """Let Tortoise create the models' tables in the (empty) database at ``url``.

    Only for scratch and test databases: real databases get their schema from Alembic.
    """
    _run_in_fresh_loop(_generate_schema, tortoise_url(url))


def tortoise_url(url: str, *, schema: str | None = None) -> str:
    """A database URL in Tortoise's form; ``schema`` sets the PostgreSQL search_path."""
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() == "sqlite":
        return f"sqlite://{sa_url.database}"
    query = dict(sa_url.query)
    if schema:
        query["schema"] = schema
    return sa_url.set(drivername="postgres", query=query).render_as_string(hide_password=False)


def _sqlite_model_metadata() -> sa.MetaData:
    with tempfile.TemporaryDirectory(prefix="wuchuang-models-") as tmp:
        path = Path(tmp) / "models.sqlite3"
        specs = _run_in_fresh_loop(_generate_schema, f"sqlite://{path}")
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        try:
            metadata = sa.MetaData()
            metadata.reflect(engine)
        finally:
            engine.dispose()
    return _make_portable(metadata, specs, "sqlite")


def _postgres_model_metadata(url: URL) -> sa.MetaData:
    # A schema rather than a database: it needs only CREATE on the database the migrating role
    # already writes to, not CREATEDB on the server.
    schema = f"wuchuang_models_{secrets.token_hex(6)}"
    admin = sa.create_engine(url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            specs = _run_in_fresh_loop(
                _generate_schema, tortoise_url(url.render_as_string(hide_password=False), schema=schema)
            )
            # With only the scratch schema on the search path, the reflected tables and foreign keys
            # come back unqualified, as they will be in the target database.
            scoped = sa.create_engine(url, poolclass=NullPool, connect_args={"options": f"-c search_path={schema}"})
            try:
                metadata = sa.MetaData()
                metadata.reflect(scoped)
            finally:
                scoped.dispose()
        finally:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()
    return _make_portable(metadata, specs, "postgresql")


def _run_in_fresh_loop(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run ``fn(*args)`` in a new event loop on a new thread.

    Tortoise keeps its state in a context variable (with an optional process-wide fallback); a
    thread of its own gives the scratch run a clean context and loop even when the caller is inside
    a running loop or has Tortoise initialised for the application.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(fn(*args))
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="wuchuang-model-schema")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


async def _generate_schema(url: str) -> dict[str, _TableSpec]:
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from events.db import tortoise_config

    # The application's own config (apps, modules, time zone), pointed at the scratch database.
    config = tortoise_config(Settings.model_construct())
    config["connections"] = {"default": url}
    async with TortoiseContext():
        await Tortoise.init(config=config)
        try:
            await Tortoise.generate_schemas(safe=False)
            return _describe_models(Tortoise.apps.get_models_iterable())
        finally:
            await Tortoise.close_connections()


def _describe_models(models: Any) -> dict[str, _TableSpec]:
    from tortoise.backends.base_postgres.schema_generator import BasePostgresSchemaGenerator

    # Tortoise escapes comments MySQL-style (a newline becomes backslash-n) and PostgreSQL keeps
    # the backslashes, so the stored comment is the escaped text with only quotes undoubled.
    escapes = BasePostgresSchemaGenerator._get_escape_translation_table()

    def stored_comment(text: str | None) -> str | None:
        return text.translate(escapes).replace("''", "'") if text else None

    def on_delete_of(field: Any) -> str | None:
        value = getattr(field.on_delete, "value", field.on_delete)
        return None if value in (None, "NO ACTION") else str(value).upper()

    def key_spec(pk: Any, on_delete: str | None) -> _ColumnSpec:
        # A column holding another table's key has that key's type, never its SERIAL/AUTOINCREMENT.
        return _ColumnSpec(
            sqlite_sql=pk.get_for_dialect("sqlite", "SQL_TYPE"),
            postgres_sql=pk.get_for_dialect("postgres", "SQL_TYPE"),
            generated_pk=False,
            comment=None,
            on_delete=on_delete,
        )

    specs: dict[str, _TableSpec] = {}
    for model in models:
        meta = model._meta
        columns = {}
        for field_name, column_name in meta.fields_db_projection.items():
            field = meta.fields_map[field_name]
            reference = getattr(field, "reference", None)
            columns[column_name] = _ColumnSpec(
                sqlite_sql=field.get_for_dialect("sqlite", "SQL_TYPE"),
                postgres_sql=field.get_for_dialect("postgres", "SQL_TYPE"),
                generated_pk=bool(field.pk and field.generated),
                comment=stored_comment(reference.description if reference else field.description),
                on_delete=on_delete_of(reference) if reference else None,
                unique=bool(field.unique and not field.pk),
            )
        specs[meta.db_table] = _TableSpec(stored_comment(meta.table_description), columns)
        # Many-to-many tables have no model; Tortoise creates them from the declaring side.
        for field_name in meta.m2m_fields:
            field = meta.fields_map[field_name]
            if field._generated:
                continue
            specs.setdefault(
                field.through,
                _TableSpec(
                    stored_comment(field.description),
                    {
                        field.backward_key: key_spec(meta.pk, on_delete_of(field)),
                        field.forward_key: key_spec(field.related_model._meta.pk, on_delete_of(field)),
                    },
                ),
            )
    return specs


_DIALECTS: dict[str, sa.Dialect] = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}

_SQL_TYPES: dict[str, Callable[[], sa.types.TypeEngine[Any]]] = {
    "INT": sa.Integer,
    "INTEGER": sa.Integer,
    "BIGINT": sa.BigInteger,
    "SMALLINT": sa.SmallInteger,
    "TEXT": sa.Text,
    "BOOL": sa.Boolean,
    "BOOLEAN": sa.Boolean,
    "TIMESTAMP": sa.TIMESTAMP,
    "TIMESTAMPTZ": lambda: sa.TIMESTAMP(timezone=True),
    "DATE": sa.Date,
    "TIME": sa.TIME,
    "TIMETZ": lambda: sa.TIME(timezone=True),
    "REAL": sa.REAL,
    "DOUBLE PRECISION": sa.Double,
    "JSON": sa.JSON,
    "JSONB": postgresql.JSONB,
    "UUID": sa.Uuid,
    "BLOB": sa.LargeBinary,
    "BYTEA": sa.LargeBinary,
}
_SIZED_SQL_TYPE = re.compile(r"^(VARCHAR|CHAR|DECIMAL|NUMERIC)\((\d+)(?:,\s*(\d+))?\)$")


def _parse_sql_type(sql: str | None) -> sa.types.TypeEngine[Any] | None:
    if not sql:
        return None
    sql = " ".join(sql.upper().split())
    if factory := _SQL_TYPES.get(sql):
        return factory()
    if match := _SIZED_SQL_TYPE.match(sql):
        name, first, second = match.groups()
        if name == "VARCHAR":
            return sa.String(int(first))
        if name == "CHAR":
            return sa.CHAR(int(first))
        return sa.Numeric(int(first), int(second or 0))
    return None


def _compiled(type_: sa.types.TypeEngine[Any], dialect: str) -> str | None:
    try:
        return type_.compile(dialect=_DIALECTS[dialect])
    except Exception:  # a type the dialect cannot render (JSONB on SQLite)
        return None


def _portable_type(spec: _ColumnSpec) -> sa.types.TypeEngine[Any] | None:
    """One SQLAlchemy type that renders as Tortoise's type on both SQLite and PostgreSQL."""
    # An auto-incrementing key must be INTEGER on SQLite, whatever its width on PostgreSQL.
    lite = _parse_sql_type("INTEGER" if spec.generated_pk else spec.sqlite_sql)
    pg = _parse_sql_type(spec.postgres_sql)
    if lite is None or pg is None:
        return None
    if _compiled(pg, "sqlite") == _compiled(lite, "sqlite"):
        return pg
    if _compiled(lite, "postgresql") == _compiled(pg, "postgresql"):
        return lite
    if type(pg).__module__.startswith("sqlalchemy.dialects.postgresql"):
        return lite.with_variant(pg, "postgresql")
    return pg.with_variant(lite, "sqlite")


def _make_portable(metadata: sa.MetaData, specs: dict[str, _TableSpec], dialect: str) -> sa.MetaData:
    for table in metadata.tables.values():
        table_spec = specs.get(table.name)
        if table_spec is None:  # not made from the models; left as reflected
            continue
        table.comment = table_spec.comment
        _drop_default_dialect_kwargs(table)
        if table_spec.autoincrement:
            # Ids are never reused on SQLite either (the activity feed is read by id).
            table.dialect_kwargs["sqlite_autoincrement"] = True
        for column in table.columns:
            spec = table_spec.columns.get(column.name)
            if spec is None:
                continue
            column.comment = spec.comment
            portable = _portable_type(spec)
            if portable is not None and _compiled(portable, dialect) == _compiled(column.type, dialect):
                column.type = portable
            else:
                log.warning(
                    "%s.%s: no dialect-neutral type for Tortoise's %s / %s; a revision written "
                    "on %s may need editing for the other dialect",
                    table.name,
                    column.name,
                    spec.sqlite_sql,
                    spec.postgres_sql,
                    dialect,
                )
            if spec.generated_pk:
                column.autoincrement = True
                column.server_default = None  # PostgreSQL's nextval() default of a SERIAL
            else:
                column.autoincrement = "auto"
        # SQLAlchemy misses SQLite's inline UNIQUE after a sized type ("VARCHAR(16) NOT NULL UNIQUE").
        unique_columns = {
            tuple(column.name for column in constraint.columns)
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        }
        for name, spec in table_spec.columns.items():
            if spec.unique and (name,) not in unique_columns and name in table.columns:
                table.append_constraint(sa.UniqueConstraint(table.columns[name]))
        for foreign_key in table.foreign_key_constraints:
            # SQLAlchemy does not reflect ON DELETE from SQLite's inline REFERENCES clauses.
            if len(foreign_key.columns) == 1:
                spec = table_spec.columns.get(next(iter(foreign_key.columns)).name)
                if spec is not None:
                    foreign_key.ondelete = spec.on_delete
        # Tortoise names only its multi-column unique constraints (uid_…) and indexes (idx_…); the
        # rest are named by the database. Leaving them unnamed here makes a revision name them the
        # same way on either dialect.
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint) and str(constraint.name or "").startswith("uid_"):
                continue
            constraint.name = None
        for index in table.indexes:
            index.unique = bool(index.unique)  # SQLite reflects 1/0
        for item in (*table.constraints, *table.indexes):
            _drop_default_dialect_kwargs(item)
    return metadata


def _drop_default_dialect_kwargs(item: Any) -> None:
    """Forget reflected options that only restate a default (postgresql_include=[], …), so that
    they are neither rendered into revisions nor taken for PostgreSQL-only options."""
    for key, value in list(item.dialect_kwargs.items()):
        if value in (None, False, [], (), {}):
            del item.dialect_kwargs[key]
