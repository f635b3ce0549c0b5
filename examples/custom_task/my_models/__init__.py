"""A user's own models, outside the sweeper package (see README "Add your own task")."""
