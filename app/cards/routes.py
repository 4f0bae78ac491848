from flask import Blueprint

bp = Blueprint("cards", __name__)
