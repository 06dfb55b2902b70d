"""Alembic environment: migrations run on the engine the Store hands over.

On SQLite, changing a constraint rebuilds the table (copy, drop, rename), which foreign keys pointing at it
forbid: migrations run with them off and are checked once done, as SQLite's ALTER TABLE procedure says
(the pragma is a no-op inside a transaction, hence the commits around it).
"""

from alembic import context

from mlwarden.store.schema import Base

config = context.config
engine = config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("a migration left rows pointing at missing rows: PRAGMA foreign_key_check")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
