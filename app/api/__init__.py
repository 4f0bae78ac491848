"""JSON API under /api/v1 (flask-smorest derives the OpenAPI document from the code)."""

from app.extensions import api, csrf

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token, created on your account page.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "A logged-in browser session; changes also need the X-CSRFToken header.",
    },
}


def init_api(app) -> None:
    from flask_smorest.spec.plugins import integerconverter2paramschema

    from app.api import boards, cards, metrics, notifications, retros, reviews, slos
    from app.api.schemas import ErrorSchema
    from app.web import DatabaseInt

    # Document the error body app/web/__init__.py really sends, not flask-smorest's default one.
    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app, spec_kwargs={"security": [{"bearerAuth": []}, {"sessionCookie": []}]})
    # Ids in paths are bounded like the database's (app/web/__init__.py): documented so.
    api.register_converter(DatabaseInt, integerconverter2paramschema)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for module in (boards, cards, metrics, notifications, reviews, retros, slos):
        # Token requests need no CSRF token; app/api/auth.py checks it for session requests.
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
