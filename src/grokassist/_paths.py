"""Where grokassist keeps files it derives from installed packages (models, optimised graphs)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["model_cache_dir", "sha256_file"]


def model_cache_dir() -> Path:
    """``$GROKASSIST_MODEL_DIR``, else ``$XDG_CACHE_HOME/grokassist/models`` (``~/.cache/...``)."""
    explicit = os.environ.get("GROKASSIST_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grokassist" / "models"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
