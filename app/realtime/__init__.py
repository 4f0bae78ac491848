"""Live board: Socket.IO rooms per board, pushes after commit, catch-up and presence."""

from app.extensions import socketio
from app.realtime.presence import make_presence

ASYNC_MODES = ("threading", "gevent", "eventlet")
MAX_MESSAGE_BYTES = 64 * 1024  # larger socket messages are refused


def init_realtime(app) -> None:
    # Importing registers the handlers.
    from app.realtime import retro_sockets, sockets, swarm_sockets  # noqa: F401

    mode = app.config["SOCKETIO_ASYNC_MODE"]
    if mode not in ASYNC_MODES:
        raise RuntimeError(f"SOCKETIO_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}.")
    socketio.init_app(
        app,
        async_mode=mode,
        message_queue=app.config.get("REDIS_URL"),
        channel=app.config.get("SOCKETIO_CHANNEL", "flask-socketio"),
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        # Any origin may open a socket; one that rides a login must be Swarmboard's own
        # (sockets.foreign_origin), while API-token clients may come from anywhere.
        cors_allowed_origins="*",
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
    )
    app.extensions["sb_presence"] = make_presence(app.config.get("REDIS_URL"))
