"""Swarm rooms, starting a swarm, invitations: thin routes over app.swarms.services."""

from flask import Blueprint

bp = Blueprint("swarms", __name__)
