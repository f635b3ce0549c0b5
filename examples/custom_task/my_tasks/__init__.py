"""A user's own tasks, outside the sweeper package (see README "Add your own task")."""
