"""A board's swarming views (dispatch, drop-in, knowledge search) and the andon webhook."""

from flask import Blueprint

bp = Blueprint("swarming", __name__)
