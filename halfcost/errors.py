"""Errors that the CLI turns into one line on stderr and an exit code, never a traceback."""

from __future__ import annotations


class HalfcostError(Exception):
    """Base class for errors a user can act on.

    The message is one line that names the problem and the fix. ``exit_code`` is the
    process exit status the CLI uses for it.
    """

    exit_code: int = 1


class BadInputError(HalfcostError, ValueError):
    """The user's input (file, column, flag, URL) is unusable; exit status 2."""

    exit_code = 2


class TargetNotMetError(HalfcostError):
    """No model reached the requested score; exit status 3 (results are still written)."""

    exit_code = 3


class ConcurrentRunError(HalfcostError):
    """Another run holds the project's lock."""

    exit_code = 4
