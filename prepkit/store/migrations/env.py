"""Alembic environment: prepkit always hands in an open connection (see store/db.py)."""

from alembic import context

from prepkit.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
