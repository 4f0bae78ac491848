"""JSON API under /api/v1 (flask-smorest derives the OpenAPI document from the code)."""

from app.extensions import api


def init_api(app) -> None:
    api.init_app(app)
