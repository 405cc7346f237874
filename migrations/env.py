"""Alembic environment.

The database: ``-x url=…``, else the URL code put in ``config.attributes["url"]``, else
WUCHUANG_DATABASE_URL through events.settings (default: SQLite in WUCHUANG_DATA_DIR).

The target schema: the Tortoise models, as Tortoise creates them in a scratch database of the same
dialect (see wuchuang.migrate.model_metadata). It is built only for the commands that compare
(``revision --autogenerate``, ``check``); upgrading and downgrading run the scripts alone.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from events.settings import load_settings

# migrations/ is tooling beside the composition root, not part of the domain core.
from wuchuang.migrate import (
    MIGRATION_LOCK_KEY,
    database_url,
    keep_sqlite_autoincrement,
    model_metadata,
    normalize_url,
)

config = context.config
log = logging.getLogger("alembic.env")

# Batch mode rebuilds SQLite tables from their reflection, which would otherwise drop AUTOINCREMENT.
keep_sqlite_autoincrement()

# Only the command line configures logging: code that calls Alembic keeps its own.
if config.config_file_name and config.cmd_opts is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
    )
    return normalize_url(url) if url else database_url(load_settings())


def _wants_model_metadata() -> bool:
    wanted = config.attributes.get("model_metadata")
    if wanted is not None:
        return bool(wanted)
    options = config.cmd_opts
    if options is None:  # called from code: the cost is a cached scratch schema, so build it
        return True
    name = options.cmd[0].__name__ if getattr(options, "cmd", None) else ""
    return name == "check" or (name == "revision" and bool(getattr(options, "autogenerate", False)))


def _skip_empty_revision(_context, _revision, directives) -> None:
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("The models and the migrations agree; no revision written.")


def _render_item(type_: str, obj: object, autogen_context) -> str | bool:
    # Rendered outside a PostgreSQL context (a revision written on SQLite), JSONB would come out
    # as "JSONB(astext_type=Text())", with Text unimported.
    if type_ == "type" and isinstance(obj, postgresql.JSONB):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB()"
    return False


def _configure_options(url: str) -> dict:
    return {
        "target_metadata": model_metadata(url) if _wants_model_metadata() else None,
        # SQLite alters tables by copying them; PostgreSQL alters them in place.
        "render_as_batch": sa.make_url(url).get_backend_name() == "sqlite",
        "compare_type": True,
        # Tortoise sets its defaults in Python, so the models declare no server defaults and a
        # server default found in the database is drift. (SERIAL's nextval() is not compared.)
        "compare_server_default": True,
        "process_revision_directives": _skip_empty_revision,
        "render_item": _render_item,
    }


def _run(connection: Connection, url: str) -> None:
    context.configure(connection=connection, **_configure_options(url))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **_configure_options(url))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller (a test) lends its own connection
        _run(connection, connection.engine.url.render_as_string(hide_password=False))
        return
    url = _url()
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            locking = connection.dialect.name == "postgresql"
            if locking:
                # Several workers may start at once: the first migrates, the others wait and
                # then find nothing to do.
                connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
            try:
                _run(connection, url)
            finally:
                if locking:
                    connection.rollback()
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
