"""Extension singletons; `create_app` binds them with `init_app`."""

import flask_smorest
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic alter them later, on SQLite (batch mode) as on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Api(flask_smorest.Api):
    """Leaves error responses to app/web/__init__.py, which answers JSON under /api/ and HTML
    elsewhere."""

    def _register_error_handlers(self):
        pass


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def in_models(name, type_, parent_names) -> bool:
    """Alembic's filter: the SQLite full-text index of swarms (swarm_search and its FTS5 shadow
    tables) is made by a migration, not by a model, so autogenerate leaves it alone."""
    return not (type_ == "table" and name and name.startswith("swarm_search"))


migrate = Migrate(render_as_batch=True, compare_type=True, include_name=in_models)
login = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
api = Api()
# async_mode is always set explicitly in create_app (never auto-picked): see app/realtime.
socketio = SocketIO()
