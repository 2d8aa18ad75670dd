"""The PostgreSQL metadata store (store.py). This module imports nothing heavy: the command line can name
its error without loading the driver."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or refused the connection); the message never shows a password."""
