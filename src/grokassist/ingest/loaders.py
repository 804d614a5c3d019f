"""Load support documents from folders and files (Markdown, text, HTML, PDF).

:func:`load_documents` never raises for bad input: every file that cannot be
loaded becomes a :class:`~grokassist.errors.DocumentError` in
:attr:`LoadResult.errors` and the rest are loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG

from ..config import IngestSettings
from ..errors import ConfigurationError, DocumentError
from ..types import Document, MetadataValue
from ._formats import FORMATS, Rejected
from .hashing import document_hash, file_hash

__all__ = ["LoadResult", "Source", "load_documents"]

#: What :func:`load_documents` accepts: a folder, a file, or an in-memory document.
Source = str | os.PathLike[str] | Document

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Loaded documents, the files that failed, and the resolved paths that were scanned.

    ``roots`` lets a caller find documents that were deleted: a known document whose
    ``metadata["path"]`` lies under a root but is not in ``documents`` or ``errors``
    is gone.
    """

    documents: list[Document] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)


def load_documents(
    sources: Iterable[Source],
    *,
    settings: IngestSettings | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
) -> LoadResult:
    """Load documents from folders (recursively), files and in-memory :class:`Document` s.

    A folder's documents get ids relative to it (``"network/router-reset.md"``); a
    named file's id is its file name. Hidden files and folders, and files whose
    extension is not in ``settings.extensions``, are skipped inside folders; a named
    file with such an extension is an error. Symlinked folders are not followed.
    ``metadata`` is merged under each document's own metadata.
    """
    settings = settings or IngestSettings()
    caller = _check_metadata(metadata)
    if isinstance(sources, (str, os.PathLike, Document)):
        sources = [sources]
    extensions = {ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in settings.extensions}
    loader = _Loader(settings.max_file_bytes, extensions, caller)
    for source in sources:
        if isinstance(source, Document):
            loader.add_document(source)
        else:
            loader.add_path(Path(os.fspath(source)).expanduser())
    return LoadResult(documents=loader.documents, errors=loader.errors, roots=loader.roots)


def _check_metadata(metadata: Mapping[str, MetadataValue] | None) -> dict[str, MetadataValue]:
    result: dict[str, MetadataValue] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)):
            raise ConfigurationError(
                f"metadata values must be str, int, float or bool; got {key!r}: {type(value).__name__}"
            )
        result[key] = value
    return result


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < _MB:
        return f"{n / 1024:.1f} KB"
    return f"{n / _MB:.1f} MB"


class _Loader:
    """Accumulates documents, errors and roots across the sources of one call."""

    def __init__(self, max_bytes: int, extensions: set[str], caller: dict[str, MetadataValue]) -> None:
        self.max_bytes = max_bytes
        self.extensions = extensions
        self.caller = caller
        self.documents: list[Document] = []
        self.errors: list[DocumentError] = []
        self.roots: list[Path] = []
        self._ids: dict[str, str] = {}  # document id -> where it came from
        self._paths: set[str] = set()  # files already seen

    def error(self, source: Path | str, reason: str) -> None:
        self.errors.append(DocumentError(str(source), reason))

    def add_document(self, doc: Document) -> None:
        if self.caller:
            doc = doc.model_copy(update={"metadata": {**self.caller, **doc.metadata}})
        if not doc.content_hash:
            doc = doc.model_copy(update={"content_hash": document_hash(doc)})
        if self._claim(doc.id, doc.source or f"<document {doc.id}>"):
            self.documents.append(doc)

    def add_path(self, path: Path) -> None:
        path = path.absolute()
        try:
            resolved = path.resolve(strict=True)
            is_dir = resolved.is_dir()
        except FileNotFoundError:
            self.error(path, "no such file or folder")
            return
        except OSError as exc:
            self.error(path, f"cannot access: {exc.strerror or exc}")
            return
        if resolved not in self.roots:
            self.roots.append(resolved)
        if is_dir:
            for item in self._walk(resolved):
                if isinstance(item, DocumentError):
                    self.errors.append(item)
                else:
                    self._load(item, item.relative_to(resolved).as_posix())
        elif resolved.suffix.lower() not in self.extensions or resolved.suffix.lower() not in FORMATS:
            supported = ", ".join(sorted(self.extensions & FORMATS.keys()))
            kind = f"'{resolved.suffix}'" if resolved.suffix else "(no extension)"
            self.error(resolved, f"unsupported file type {kind}; supported: {supported}")
        else:
            self._load(resolved, resolved.name)

    def _walk(self, folder: Path) -> Iterator[Path | DocumentError]:
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield DocumentError(str(folder), f"cannot list folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from self._walk(Path(entry.path))
                    continue
                is_file = entry.is_file()
            except OSError as exc:
                yield DocumentError(entry.path, f"cannot access: {exc.strerror or exc}")
                continue
            suffix = os.path.splitext(entry.name)[1].lower()
            if is_file and suffix in self.extensions:
                yield Path(entry.path)

    def _claim(self, doc_id: str, where: str) -> bool:
        """Register ``doc_id``; a second source with the same id is an error."""
        other = self._ids.get(doc_id)
        if other is not None:
            self.error(where, f"duplicate document id {doc_id!r}: already loaded from {other}")
            return False
        self._ids[doc_id] = where
        return True

    def _load(self, path: Path, doc_id: str) -> None:
        if str(path) in self._paths:
            return  # the same file named twice (e.g. a folder and a file in it): load it once
        self._paths.add(str(path))
        try:
            doc = self._read(path, doc_id)
        except Rejected as exc:
            self.error(path, exc.reason)
        except Exception as exc:  # a parser bug or a malformed file we did not foresee
            self.error(path, f"could not be parsed: {type(exc).__name__}: {exc}")
        else:
            if self._claim(doc_id, str(path)):
                self.documents.append(doc)

    def _read(self, path: Path, doc_id: str) -> Document:
        suffix = path.suffix.lower()
        if suffix not in FORMATS:
            raise Rejected(f"no loader for '{suffix}' files")
        fmt, parse = FORMATS[suffix]
        try:
            stat = path.stat()
            if not S_ISREG(stat.st_mode):
                raise Rejected("not a regular file")
            if stat.st_size > self.max_bytes:
                raise Rejected(f"file is {_size(stat.st_size)}, over the {_size(self.max_bytes)} limit")
            raw = path.read_bytes()
        except PermissionError as exc:
            raise Rejected("permission denied: cannot read the file") from exc
        except OSError as exc:
            raise Rejected(f"cannot read the file: {exc.strerror or exc}") from exc
        if not raw.strip():
            raise Rejected("file is empty")
        parsed = parse(raw, path)
        if not parsed.text.strip():
            raise Rejected(f"no text could be extracted from this {fmt.upper()} file")
        return Document(
            id=doc_id,
            text=parsed.text,
            title=parsed.title,
            source=parsed.source or str(path),
            metadata={**self.caller, **parsed.metadata, "path": str(path), "format": fmt},
            updated=parsed.updated or datetime.fromtimestamp(stat.st_mtime, UTC),
            content_hash=file_hash(raw, self.caller),
        )
