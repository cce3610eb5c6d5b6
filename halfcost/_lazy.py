"""Lazy public names for a package: `from halfcost.automl import X` imports only X's module.

scikit-learn, LightGBM, Evidently and Great Expectations each take seconds to import;
a package's ``__init__`` that imported them eagerly would make every command slow.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package`` resolving ``exports`` on first use.

    Args:
        package: the package's ``__name__``.
        exports: public name -> private module (relative to the package) that defines it.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
