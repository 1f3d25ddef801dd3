"""Alembic environment: runs on the connection that Database.migrate() passes in,
or on DATABASE_URL when invoked through the alembic command line."""

from alembic import context
from sqlalchemy import pool

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    from bot.settings import load_settings
    from storage.db import build_engine

    engine = build_engine(load_settings().database_url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
