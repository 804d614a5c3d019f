"""A polite website crawler: a site's pages (HTML, PDF, Word, text) as documents.

``https://docs.example.com/help/`` crawls from that page, following links that stay
on the same host and under ``/help/``; ``https://docs.example.com/sitemap.xml`` (any URL
ending in ``.xml`` or ``.xml.gz``) reads the pages a sitemap (or sitemap index) lists.
Either way the crawler

- obeys ``robots.txt`` (Protego, as Scrapy does): disallowed pages are not fetched, a
  ``Crawl-delay`` longer than the politeness delay is honoured, and a ``robots.txt``
  that answers with a server error stops the crawl (RFC 9309);
- waits ``delay_s`` (``GROKASSIST_WEB_DELAY_S``, 1 s) between two requests;
- sends ``If-None-Match`` / ``If-Modified-Since`` for pages it has indexed before, so an
  unchanged page costs a 304 and no download;
- drops pages that answer 404 or 410 and keeps (and reports) pages that fail otherwise;
- leaves out pages marked ``noindex`` and does not follow the links of ``nofollow`` ones.

Pages it indexed before are visited again even when no link leads to them any more, so
that a page that still exists is kept and one that is gone is dropped.
"""

from __future__ import annotations

import gzip
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import httpx

from ...config import IngestSettings
from ...errors import ConfigurationError, ConnectorError
from ...types import Document, MetadataValue
from .._docx import parse_docx
from .._formats import parse_markdown, parse_text
from .._html import parse_html
from .._parsed import Parsed, Rejected
from .._pdf import parse_pdf
from ..hashing import document_hash
from ._http import Http, TooLarge
from .base import Failed, Fetched, Item, Unchanged
from .settings import WebSettings

__all__ = ["WebCrawler"]

logger = logging.getLogger("grokassist.ingest")

_PARSERS: dict[str, tuple[str, Callable[..., Parsed]]] = {
    "text/html": ("html", parse_html),
    "application/xhtml+xml": ("html", parse_html),
    "application/pdf": ("pdf", parse_pdf),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", parse_docx),
    "text/markdown": ("md", parse_markdown),
    "text/x-markdown": ("md", parse_markdown),
    "text/plain": ("txt", parse_text),
}
#: Links to these are not worth a request.
_SKIP_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".svg",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".css",
        ".js",
        ".mjs",
        ".json",
        ".xml",
        ".zip",
        ".gz",
        ".tgz",
        ".rar",
        ".7z",
        ".mp3",
        ".mp4",
        ".m4a",
        ".wav",
        ".ogg",
        ".webm",
        ".mov",
        ".avi",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".exe",
        ".dmg",
        ".msi",
        ".apk",
        ".iso",
    ]
)
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = frozenset({200, 304, 404, 410}) | _REDIRECTS
#: Requests that fail in a row before the crawl is abandoned (the site is down).
_MAX_FAILURES_IN_A_ROW = 10
#: Sitemaps (and sitemap indexes) read at most.
_MAX_SITEMAPS = 50


def normalise_url(url: str) -> str | None:
    """``url`` without its fragment, with a lower-case scheme and host and no default port;
    ``None`` for anything but http(s)."""
    url, _ = urldefrag(url.strip())
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and not (scheme == "http" and port == 80) and not (scheme == "https" and port == 443):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


class WebCrawler:
    """The pages of one website (under a path), from a start page or a sitemap."""

    def __init__(
        self,
        start: str,
        *,
        settings: WebSettings | None = None,
        max_bytes: int = 20 * 1024 * 1024,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        url = normalise_url(start)
        if url is None:
            raise ConfigurationError(f"not a website URL: {start!r} (use http:// or https://)")
        self.settings = settings or WebSettings()
        self.max_bytes = max_bytes
        self.start = url
        self.origin = url
        parts = urlsplit(url)
        self.sitemap = parts.path.endswith((".xml", ".xml.gz"))
        self._netloc = parts.netloc
        self._root = f"{parts.scheme}://{parts.netloc}"
        directory = parts.path if parts.path.endswith("/") else parts.path.rsplit("/", 1)[0] + "/"
        self.scope = "/" if self.sitemap else directory
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        self._delay = self.settings.delay_s
        self._http = Http(
            "website",
            headers={
                "User-Agent": f"{self.settings.user_agent} (grokassist support-docs crawler)",
                "Accept": "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.8,*/*;q=0.5",
            },
            transport=transport,
            sleep=sleep,
            max_retries=2,
            follow_redirects=False,  # a redirect is queued like a link: in scope, allowed, fetched once
        )
        self._robots: Any = None

    @classmethod
    def from_uri(cls, uri: str, *, ingest: IngestSettings | None = None, **options: Any) -> WebCrawler:
        """``https://SITE/PATH`` (crawl) or ``https://SITE/sitemap.xml`` (sitemap)."""
        if ingest is not None:
            options.setdefault("max_bytes", ingest.max_file_bytes)
        return cls(uri, **options)

    def __repr__(self) -> str:
        return f"WebCrawler(origin={self.origin!r})"

    def close(self) -> None:
        self._http.close()

    # -- scope and politeness --------------------------------------------------------------

    def in_scope(self, url: str) -> bool:
        """Same host and port (http or https), under the start page's folder."""
        parts = urlsplit(url)
        return parts.netloc == self._netloc and parts.path.startswith(self.scope)

    def allowed(self, url: str) -> bool:
        return self._robots is None or bool(self._robots.can_fetch(url, self.settings.user_agent))

    def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        if self._last_request is not None:
            wait = self._last_request + self._delay - self._clock()
            if wait > 0:
                self._sleep(wait)
        try:
            return self._http.get(url, **kwargs)
        finally:
            self._last_request = self._clock()

    def _load_robots(self) -> list[str]:
        """Read ``/robots.txt``; returns the sitemaps it names."""
        from protego import Protego

        url = f"{self._root}/robots.txt"
        try:
            response = self._get(url, accept=frozenset(range(200, 500)), max_bytes=512 * 1024)
        except TooLarge:
            return []
        except ConnectorError as exc:
            raise ConnectorError(
                f"website: {url} failed ({exc}); not crawling a site whose robots.txt cannot be read",
                status_code=exc.status_code,
            ) from exc
        if response.status_code != 200:
            return []  # 4xx: no rules (RFC 9309)
        self._robots = Protego.parse(response.text)
        delay = self._robots.crawl_delay(self.settings.user_agent)
        if delay:
            self._delay = max(self._delay, float(delay))
        return [str(s) for s in self._robots.sitemaps]

    # -- the crawl -------------------------------------------------------------------------

    def fetch(self, known: Mapping[str, Mapping[str, MetadataValue]]) -> Iterator[Item]:
        self._load_robots()
        seeds = self._sitemap_urls(self.start) if self.sitemap else [self.start]
        queue: deque[str] = deque()
        queued: set[str] = set()

        def enqueue(url: str | None) -> None:
            if url is None or url in queued or not self.in_scope(url) or not self.allowed(url):
                return
            if PurePosixPath(urlsplit(url).path).suffix.lower() not in _SKIP_SUFFIXES:
                queued.add(url)
                queue.append(url)

        for seed in seeds:
            enqueue(normalise_url(seed))
        for doc_id in sorted(known):
            enqueue(normalise_url(doc_id))  # indexed before: still there?
        if not queue:
            return
        pages = 0
        failures = 0
        first = True
        while queue:
            if pages >= self.settings.max_pages:
                logger.warning("website: stopped at %d pages (GROKASSIST_WEB_MAX_PAGES)", pages)
                for url in queue:
                    if url in known:
                        yield Unchanged(url)  # not visited this time: keep
                return
            url = queue.popleft()
            pages += 1
            item, links, redirect = self._page(url, known.get(url, {}))
            if isinstance(item, Failed) and item.reason.startswith("request failed"):
                failures += 1
                if first or failures >= _MAX_FAILURES_IN_A_ROW:
                    raise ConnectorError(f"website: {item.source}: {item.reason}")
            else:
                failures = 0
            first = False
            if item is not None:
                yield item
            if redirect is not None:
                enqueue(normalise_url(urljoin(url, redirect)))  # a redirect is followed like a link
            elif not self.sitemap:
                for link in links:
                    enqueue(normalise_url(urljoin(url, link)))

    def _page(
        self, url: str, previous: Mapping[str, MetadataValue]
    ) -> tuple[Item | None, list[str], str | None]:
        """Fetch and parse one page: what to yield (``None``: nothing), its links, and where it
        redirects to (``None``: nowhere)."""
        headers = {}
        if previous.get("etag"):
            headers["If-None-Match"] = str(previous["etag"])
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = str(previous["last_modified"])
        try:
            response = self._get(url, headers=headers, accept=_ACCEPT, max_bytes=self.max_bytes)
        except TooLarge as exc:
            return Failed(url, url, f"page is {exc.size} bytes, over the {exc.limit} bytes limit"), [], None
        except ConnectorError as exc:
            return Failed(url, url, f"request failed: {exc}"), [], None
        if response.status_code == 304:
            return (Unchanged(url) if previous else None), [], None
        if response.status_code in (404, 410):
            return None, [], None  # gone: deleted if it was indexed
        if response.status_code in _REDIRECTS:
            return None, [], response.headers.get("location") or None
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        parser = _PARSERS.get(media)
        if parser is None:
            return None, [], None  # an image, a stylesheet...: not a document
        fmt, parse = parser
        path = PurePosixPath(urlsplit(url).path or "/")
        try:
            if fmt == "html":
                parsed = parse(response.content, path, charset=response.charset_encoding)
            else:
                parsed = parse(response.content, path)
        except Rejected as exc:
            return Failed(url, url, exc.reason), [], None
        except Exception as exc:  # a parser bug or a malformed file we did not foresee
            return Failed(url, url, f"could not be parsed: {type(exc).__name__}: {exc}"), [], None
        links = parsed.links if parsed.follow else []
        if not parsed.index:
            return None, links, None
        if not parsed.text.strip():
            return Failed(url, url, f"no text could be extracted from this {fmt.upper()} page"), links, None
        canonical = normalise_url(parsed.source) if parsed.source else None
        doc = Document(
            id=url,
            text=parsed.text,
            title=parsed.title,
            source=canonical if canonical is not None and self.in_scope(canonical) else url,
            metadata={**parsed.metadata, "connector": "web", "format": fmt},
            updated=parsed.updated,
        )
        doc = doc.model_copy(update={"content_hash": document_hash(doc)})
        validators: dict[str, MetadataValue] = {}
        if response.headers.get("etag"):
            validators["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            validators["last_modified"] = response.headers["last-modified"]
        if validators:
            doc = doc.model_copy(update={"metadata": {**doc.metadata, **validators}})
        return Fetched(doc, dict(parsed.hidden)), links, None

    def _sitemap_urls(self, sitemap: str) -> list[str]:
        """Page URLs of a sitemap or sitemap index (recursively, at most ``_MAX_SITEMAPS`` files)."""
        import defusedxml.ElementTree as ElementTree

        urls: list[str] = []
        todo = [sitemap]
        read = 0
        while todo and read < _MAX_SITEMAPS:
            current = todo.pop(0)
            read += 1
            try:
                response = self._get(current, max_bytes=50 * 1024 * 1024)
            except TooLarge as exc:
                raise ConnectorError(f"website: sitemap {current} is over {exc.limit} bytes") from exc
            content = response.content
            if content[:2] == b"\x1f\x8b":
                content = gzip.decompress(content)
            try:
                root = ElementTree.fromstring(content)
            except Exception as exc:  # ParseError, or defusedxml refusing entities
                raise ConnectorError(f"website: sitemap {current} is not valid XML ({exc})") from exc
            for loc in root.iter(f"{_SITEMAP_NS}loc"):
                target = (loc.text or "").strip()
                if not target:
                    continue
                if root.tag == f"{_SITEMAP_NS}sitemapindex":
                    todo.append(urljoin(current, target))
                else:
                    urls.append(urljoin(current, target))
        return urls
