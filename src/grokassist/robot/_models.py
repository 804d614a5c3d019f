"""Pinned checksums of the speech models that come inside pip packages."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from .._paths import model_cache_dir, sha256_file
from ..errors import ConfigurationError

__all__ = ["verify_pinned"]


def verify_pinned(path: Path, expected: str, package: str) -> Path:
    """``path`` if its sha256 is ``expected``; else :class:`ConfigurationError` naming the package.

    A stamp (size, mtime, digest) in the model cache saves hashing the same
    file on every start.
    """
    if not path.is_file():
        raise ConfigurationError(
            f"{path} is missing; reinstall with: pip install --force-reinstall {package}"
        )
    stat = path.stat()
    mark = f"{expected} {stat.st_size} {stat.st_mtime_ns}"
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    stamp = model_cache_dir() / "verified" / f"{key}.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(stamp.read_text()).get("mark") == mark:
            return path
    actual = sha256_file(path)
    if actual != expected:
        raise ConfigurationError(
            f"{path} does not match its pinned sha256 ({actual[:12]}… instead of {expected[:12]}…); "
            f"reinstall with: pip install --force-reinstall {package}"
        )
    with contextlib.suppress(OSError):
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"path": str(path), "mark": mark}))
    return path
