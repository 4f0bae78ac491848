"""Metrics pages: thin routes over app.metrics.services and app.metrics.forecast."""

from flask import Blueprint

bp = Blueprint("metrics", __name__)
