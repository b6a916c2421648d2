"""Errors that are the user's to fix: the CLI prints one line and exits with code 2."""


class UserError(Exception):
    """A mistake the user can fix (bad path, missing model, unwritable output): one clear line."""
