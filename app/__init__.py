"""Swarmboard: a live Kanban and swarming board for IT service teams."""

import gc
import os
from pathlib import Path

from flask import Flask

from app import config, database  # noqa: F401  (database registers engine hooks)
from app.extensions import csrf, db, htmx, login, migrate

ROOT = Path(__file__).resolve().parent.parent


def settle_heap() -> None:
    """For a server process, once its app is built: what start-up built lives as long as the
    process, so Python's cyclic garbage collector stops walking it on every full collection.
    A page of 300 cards makes tens of thousands of short-lived objects, and the full collections
    they trigger walked the whole heap (measured on the wall page with 300 cards: median 95 →
    74 ms, p95 250–290 → 115 ms)."""
    gc.collect()
    gc.freeze()


def subscribe_to_events() -> None:
    """What reacts to changes subscribes to the event log as its module is imported
    (app/events/hooks.py); these are all of them."""
    from app.cards import occupancy  # noqa: F401  (columns and lanes keep their cards)
    from app.notifications import tell  # noqa: F401  (inboxes and their bells)
    from app.realtime import publish  # noqa: F401  (board pushes)
    from app.retros import live as retro_live  # noqa: F401  (retrospective sessions)
    from app.swarms import live, services  # noqa: F401  (swarm rooms; swarms end with their card)
    from app.webhooks import delivery  # noqa: F401  (wakes the webhook deliverer)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    if "LDAP" not in app.config:  # docs/accounts.md; read here, as the reader is in accounts
        from app.accounts.ldap import ldap_settings

        app.config["LDAP"] = ldap_settings(os.environ)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          config.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))

    from app.web.security import init_security

    # First: its after_request runs last, when every other hook has set its cookies.
    init_security(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    from app import models  # noqa: F401  (the whole schema, for Alembic)
    from app.accounts import auth
    from app.api import init_api
    from app.cli import register_cli
    from app.notifications.rounds import init_rounds
    from app.realtime import init_realtime
    from app.reviews.improvements import init_improvements
    from app.slos.services import init_budgets
    from app.web import register_blueprints, register_error_handlers, register_template_helpers
    from app.webhooks.delivery import init_delivery

    subscribe_to_events()
    auth.init_login(login)
    register_blueprints(app)
    init_api(app)
    init_realtime(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    init_rounds(app)
    init_improvements(app)
    init_budgets(app)
    init_delivery(app)
    return app
