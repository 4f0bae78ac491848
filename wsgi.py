"""WSGI entry point: `flask --app wsgi ...` and production servers import `app` from here."""

import os

if os.environ.get("SOCKETIO_ASYNC_MODE") == "gevent":
    # First, before anything imports socket, select or threading: code that grabs the blocking
    # originals at import (psycopg picks its wait function then, redis and SQLAlchemy's pool
    # take locks) would stall every greenlet in the process while one waits on the network.
    from gevent import monkey

    monkey.patch_all()

from app import create_app, settle_heap  # noqa: E402  (after the patch, on purpose)
from app.database import checkpoint_in_background  # noqa: E402
from app.extensions import db  # noqa: E402

app = create_app()
with app.app_context():
    checkpoint_in_background(db.engine)  # SQLite: no commit pays for a WAL checkpoint
settle_heap()
