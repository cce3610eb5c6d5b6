"""Errors that the CLI turns into one line on stderr and an exit code, never a traceback.

The library speaks in parameter names (``budget_s``), the CLI in flags (``--budget-s``):
an error about one parameter is raised with ``param=`` and writes ``{param}`` where the
name belongs. ``str(error)`` shows the parameter's name, as a notebook user wrote it;
the CLI renders the same message with the flag instead (:meth:`HalfcostError.render`).
"""

from __future__ import annotations

PARAM_PLACEHOLDER = "{param}"


class ParamMessage:
    """A message about one parameter: ``{param}`` stands where its name belongs.

    Mixed into :class:`HalfcostError` and into warnings (``SearchWarning``), so that an
    error and a warning about ``budget_s`` read ``budget_s`` from Python and
    ``--budget-s`` from the CLI alike.

    Args:
        message: the one-line message; ``{param}`` stands for the parameter's name.
        param: the library parameter the message is about (e.g. ``"budget_s"``), if any.
    """

    def __init__(self, message: str = "", *, param: str | None = None) -> None:
        self.template = message
        self.param = param
        super().__init__(self.render())

    def render(self, name: str | None = None) -> str:
        """The message with ``{param}`` replaced by ``name`` (default: the parameter's name)."""
        if self.param is None:
            return self.template
        return self.template.replace(PARAM_PLACEHOLDER, name or self.param)


class HalfcostError(ParamMessage, Exception):
    """Base class for errors a user can act on.

    The message is one line that names the problem and the fix. ``exit_code`` is the
    process exit status the CLI uses for it.
    """

    exit_code: int = 1


def flag_for(param: str) -> str:
    """The CLI flag that sets a library parameter: ``budget_s`` -> ``--budget-s``."""
    return "--" + param.replace("_", "-")


class BadInputError(HalfcostError, ValueError):
    """The user's input (file, column, flag, URL) is unusable; exit status 2."""

    exit_code = 2


class TargetNotMetError(HalfcostError):
    """No model reached the requested score; exit status 3 (results are still written)."""

    exit_code = 3


class ConcurrentRunError(HalfcostError):
    """Another run holds the project's lock."""

    exit_code = 4


class StorageUnavailableError(BadInputError):
    """The study's database went away (or never answered); exit status 2.

    A :class:`BadInputError` (the storage named is unusable right now). Finished trials
    are kept in the storage: rerunning once it is back resumes the study.
    """
