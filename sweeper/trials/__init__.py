"""A job's side of a search: its trial, the study's storage, the pruner it reports to."""
