"""Wall displays: read-only, no-login views of boards for the team-room TV."""
