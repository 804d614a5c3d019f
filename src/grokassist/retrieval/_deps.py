"""Imports of retrieval dependencies with an error that names the pip command."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import MissingDependencyError


def missing(pip_name: str, feature: str) -> MissingDependencyError:
    """A :class:`MissingDependencyError` whose fix is ``pip install <pip_name>``."""
    error = MissingDependencyError(pip_name, "", feature)
    error.install_command = f"pip install {pip_name}"
    error.args = (f"{feature} needs the package {pip_name!r}; install it with: {error.install_command}",)
    return error


def need(module: str, pip_name: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :func:`missing`'s error."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing(pip_name, feature) from exc
