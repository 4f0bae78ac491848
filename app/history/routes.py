"""History import (upload) and export (download) pages."""

from flask import Blueprint

bp = Blueprint("history", __name__)
