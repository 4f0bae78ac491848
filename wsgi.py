"""WSGI entry point: `flask --app wsgi ...` and production servers import `app` from here."""

import os

if os.environ.get("SOCKETIO_ASYNC_MODE") == "gevent":
    # First, before anything imports socket, select or threading: code that grabs the blocking
    # originals at import (psycopg picks its wait function then, redis and SQLAlchemy's pool
    # take locks) would stall every greenlet in the process while one waits on the network.
    from gevent import monkey

    monkey.patch_all()

from app import create_app, settle_heap  # noqa: E402  (after the patch, on purpose)

app = create_app()
settle_heap()
