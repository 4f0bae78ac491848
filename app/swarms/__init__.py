"""Swarm rooms, experts, invitations and the andon cord."""
