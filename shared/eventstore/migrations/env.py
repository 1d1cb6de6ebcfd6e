"""Alembic environment: runs on the connection handed over by ``shared.eventstore.migrate``."""

from alembic import context

from shared.eventstore.schema import metadata

VERSION_TABLE = "thidua_event_store_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
