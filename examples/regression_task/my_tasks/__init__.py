"""A regression task of a user's own: my_tasks/mean.py."""
