"""Load support documents from folders, files, help centres and websites.

:func:`load_documents` never raises for bad input: every file that cannot be
loaded becomes a :class:`~grokassist.errors.DocumentError` in
:attr:`LoadResult.errors` and the rest are loaded. A help centre or website
(a :class:`~grokassist.ingest.connectors.Connector`, or its URI such as
``zendesk://acme`` or ``https://docs.example.com/``) that fails part-way is
reported the same way and is not marked complete, so that nothing it holds is
deleted because of the failure.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from ..config import IngestSettings
from ..errors import ConfigurationError, DocumentError, GrokAssistError
from ..guard.injection import FLAG_KEY, scan
from ..types import Document, MetadataValue
from ._formats import FORMATS, Rejected
from .hashing import document_hash, file_hash, metadata_json

if TYPE_CHECKING:
    from .connectors.base import Connector

__all__ = ["LoadResult", "Source", "is_uri", "load_documents", "real_path"]

#: What :func:`load_documents` accepts: a folder, a file, an in-memory document, a
#: connector, or a connector's URI (``zendesk://acme``, ``https://docs.example.com/``).
Source: TypeAlias = "str | os.PathLike[str] | Document | Connector"

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
    #: Connector origins (``metadata["origin"]``) that were listed completely: a known
    #: document of one of them that is not in ``documents``, ``unchanged`` or ``kept`` is gone.
    origins: list[str] = field(default_factory=list)
    #: Ids of documents a source said are unchanged (an HTTP 304) without sending them.
    unchanged: list[str] = field(default_factory=list)
    #: Ids of documents that exist at their source but could not be read this time.
    kept: list[str] = field(default_factory=list)
    #: ``(source, characters, reasons)`` of the documents whose hidden text was left out.
    hidden: list[tuple[str, int, str]] = field(default_factory=list)


def is_uri(source: object) -> bool:
    """Whether ``source`` is a connector URI (``scheme://...``) rather than a path."""
    if not isinstance(source, str):
        return False
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.isascii() and scheme.replace("+", "").replace("-", "").isalnum()


def real_path(path: str | os.PathLike[str]) -> str:
    """The absolute path with symbolic links resolved, as far as they resolve.

    Unlike ``Path.resolve`` on Python 3.11, a symbolic link loop does not raise.
    """
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def load_documents(
    sources: Iterable[Source] | Source,
    *,
    settings: IngestSettings | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
    known: Mapping[str, Mapping[str, MetadataValue]] | None = None,
) -> LoadResult:
    """Load documents from folders (recursively), files, in-memory :class:`Document` s and connectors.

    A folder's documents get ids relative to it (``"network/router-reset.md"``); a
    named file's id is its file name. Hidden files and folders, and files whose
    extension is not in ``settings.extensions``, are skipped inside folders; a named
    file with such an extension is an error. Symbolic links to folders are not
    followed (they are reported); symbolic link loops, broken links and unreadable
    entries are reported and skipped. ``metadata`` is merged under each document's
    own metadata. ``known`` maps the ids of already indexed documents to their
    metadata, which connectors use for conditional requests (ETag, Last-Modified).
    """
    settings = settings or IngestSettings()
    caller = _check_metadata(metadata)
    items: list[Any] = (
        [sources]
        if isinstance(sources, (str, os.PathLike, Document)) or _is_connector(sources)
        else list(cast("Iterable[Source]", sources))
    )
    extensions = {ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in settings.extensions}
    loader = _Loader(settings.max_file_bytes, extensions, caller)
    for source in items:
        if isinstance(source, Document):
            loader.add_document(source)
        elif _is_connector(source) or is_uri(source):
            loader.add_connector(source, settings, known or {})
        else:
            loader.add_path(Path(os.fspath(source)).expanduser())
    return LoadResult(
        documents=loader.documents,
        errors=loader.errors,
        roots=loader.roots,
        origins=loader.origins,
        unchanged=loader.unchanged,
        kept=loader.kept,
        hidden=loader.hidden,
    )


def _is_connector(source: object) -> bool:
    return callable(getattr(source, "fetch", None)) and isinstance(getattr(source, "origin", None), str)


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
        self.origins: list[str] = []
        self.unchanged: list[str] = []
        self.kept: list[str] = []
        self.hidden: list[tuple[str, int, str]] = []
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

    def note_hidden(self, source: str, hidden: Mapping[str, int]) -> None:
        chars = sum(hidden.values())
        if chars:
            reasons = ", ".join(
                f"{reason} ({n})" for reason, n in sorted(hidden.items(), key=lambda kv: -kv[1])
            )
            self.hidden.append((source, chars, reasons))

    def add_connector(
        self,
        source: Connector | str,
        settings: IngestSettings,
        known: Mapping[str, Mapping[str, MetadataValue]],
    ) -> None:
        from .connectors import open_connector
        from .connectors.base import Failed, Fetched, Unchanged

        where = source if isinstance(source, str) else source.origin
        try:
            connector = open_connector(source, ingest=settings) if isinstance(source, str) else source
        except GrokAssistError as exc:
            self.error(where, str(exc))
            return
        origin = connector.origin
        mine = {doc_id: meta for doc_id, meta in known.items() if meta.get("origin") == origin}
        try:
            for item in connector.fetch(mine):
                if isinstance(item, Unchanged):
                    if self._claim(item.id, origin):
                        self.unchanged.append(item.id)
                elif isinstance(item, Failed):
                    self.error(item.source, item.reason)
                    self.kept.append(item.id)
                elif isinstance(item, Fetched):
                    self._add_remote(item.document, origin)
                    self.note_hidden(item.document.source or item.document.id, item.hidden)
        except GrokAssistError as exc:
            self.error(origin, f"{exc} (nothing from it is deleted this time)")
            return
        except Exception as exc:  # a connector bug: report it, delete nothing
            self.error(origin, f"failed: {type(exc).__name__}: {exc} (nothing from it is deleted this time)")
            return
        finally:
            if isinstance(source, str):
                connector.close()
        self.origins.append(origin)

    def _add_remote(self, doc: Document, origin: str) -> None:
        metadata = {**self.caller, **doc.metadata, "origin": origin}
        digest = doc.content_hash or document_hash(doc)
        if self.caller:
            digest = hashlib.sha256(f"{digest}\x00{metadata_json(self.caller)}".encode()).hexdigest()
        doc = doc.model_copy(update={"metadata": metadata, "content_hash": digest})
        if self._claim(doc.id, doc.source or origin):
            self.documents.append(doc)

    def add_path(self, path: Path) -> None:
        path = path.absolute()
        try:
            resolved = path.resolve(strict=True)
            is_dir = resolved.is_dir()
        except FileNotFoundError:
            reason = "broken symbolic link" if path.is_symlink() else "no such file or folder"
            self.error(path, reason)
            return
        except RuntimeError:  # Python 3.11's Path.resolve on a loop
            self.error(path, "symbolic link loop")
            return
        except OSError as exc:
            self.error(path, _access_reason(exc))
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

    def _walk(self, root: Path) -> Iterator[Path | DocumentError]:
        """Files under ``root`` in sorted order, depth first, without recursion.

        Symbolic links to files are followed; links to folders are not (a link can
        lead out of the folder, or back into it), loops and broken links are errors.
        """
        listing = _list_folder(root)
        if isinstance(listing, DocumentError):
            yield listing
            return
        stack: list[Iterator[os.DirEntry[str]]] = [iter(listing)]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            if entry.name.startswith("."):
                continue
            suffix = os.path.splitext(entry.name)[1].lower()
            try:
                if entry.is_dir(follow_symlinks=False):
                    listing = _list_folder(Path(entry.path))
                    if isinstance(listing, DocumentError):
                        yield listing
                    else:
                        stack.append(iter(listing))
                    continue
                if entry.is_symlink():
                    problem = _link_problem(entry.path)
                    if problem is not None:
                        yield DocumentError(entry.path, problem)
                        continue
                is_file = entry.is_file()
            except OSError as exc:
                yield DocumentError(entry.path, _access_reason(exc))
                continue
            if suffix in self.extensions:
                yield Path(entry.path) if is_file else DocumentError(entry.path, "not a regular file")

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
            doc, hidden = self._read(path, doc_id)
        except Rejected as exc:
            self.error(path, exc.reason)
        except Exception as exc:  # a parser bug or a malformed file we did not foresee
            self.error(path, f"could not be parsed: {type(exc).__name__}: {exc}")
        else:
            if self._claim(doc_id, str(path)):
                self.documents.append(doc)
                self.note_hidden(str(path), hidden)

    def _read(self, path: Path, doc_id: str) -> tuple[Document, dict[str, int]]:
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
            if exc.errno == errno.ELOOP:
                raise Rejected("symbolic link loop") from exc
            raise Rejected(f"cannot read the file: {exc.strerror or exc}") from exc
        if not raw.strip():
            raise Rejected("file is empty")
        parsed = parse(raw, path)
        if not parsed.text.strip():
            if parsed.hidden_chars:
                raise Rejected(
                    f"no visible text in this {fmt.upper()} file: its {parsed.hidden_chars} characters of "
                    f"text are hidden from readers ({', '.join(sorted(parsed.hidden))})"
                )
            raise Rejected(f"no text could be extracted from this {fmt.upper()} file")
        metadata = {**self.caller, **parsed.metadata, "path": str(path), "format": fmt}
        planted = scan("\n".join(parsed.hidden_text)) if parsed.hidden_text else None
        if planted is not None:  # orders hidden from readers: the whole document is untrusted
            metadata[FLAG_KEY] = f"hidden text: {planted.reason}"[:200]
        document = Document(
            id=doc_id,
            text=parsed.text,
            title=parsed.title,
            source=parsed.source or str(path),
            metadata=metadata,
            updated=parsed.updated or datetime.fromtimestamp(stat.st_mtime, UTC),
            content_hash=file_hash(raw, self.caller),
        )
        return document, parsed.hidden


def _list_folder(folder: Path) -> list[os.DirEntry[str]] | DocumentError:
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        return DocumentError(str(folder), f"cannot list folder: {exc.strerror or exc}")


def _link_problem(path: str) -> str | None:
    """Why the symbolic link at ``path`` is skipped, or ``None`` for a link to a file."""
    try:
        target = os.stat(path)
    except FileNotFoundError:
        try:
            return f"broken symbolic link (to {os.readlink(path)!r})"
        except OSError:
            return "broken symbolic link"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        return _access_reason(exc)
    if S_ISDIR(target.st_mode):
        return f"symbolic link to a folder, not followed (ingest {real_path(path)} itself to include it)"
    return None


def _access_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: cannot read it"
    return f"cannot access: {exc.strerror or exc}"
