"""Fake help centres that answer with the vendors' recorded response shapes (``recorded/*.json``).

Each ``*_transport(site, ...)`` returns an :class:`httpx.MockTransport` serving a
:class:`~grokassist.testing.FakeHelpCentre` the way the vendor's API does, and checks
each request the way the vendor would: host, path, query, credentials.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from grokassist.testing import FakeArticle, FakeHelpCentre

RECORDED = Path(__file__).parent / "recorded"

Handler = Callable[[httpx.Request], httpx.Response]


@cache
def recorded(vendor: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / f"{vendor}.json").read_text("utf-8"))
    return data


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _guard(
    site: FakeHelpCentre, vendor: str, request: httpx.Request, auth: str | None
) -> httpx.Response | None:
    """Record the request; answer an injected failure or a credential mismatch like the vendor."""
    site.requests.append(request)
    errors = recorded(vendor)["errors"]
    failure = site.failure()
    if failure is not None:
        status, headers = failure
        return httpx.Response(status, json=errors[str(status)], headers=headers)
    if auth is not None and request.headers.get("authorization") != auth:
        return httpx.Response(401, json=errors["401"])
    return None


def _unexpected(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request: {request.method} {request.url}")


# -- Zendesk ------------------------------------------------------------------------------------


def zendesk_article(article: FakeArticle, host: str, locale: str = "en-us") -> dict[str, Any]:
    item = copy.deepcopy(recorded("zendesk")["article"])
    stamp = article.updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    item.update(
        id=article.id,
        url=f"https://{host}/api/v2/help_center/{locale}/articles/{article.id}.json",
        html_url=f"https://{host}/hc/{locale}/articles/{article.id}",
        title=article.title,
        name=article.title,
        body=article.html,
        draft=article.draft,
        user_segment_id=7001 if article.restricted else None,
        locale=locale,
        updated_at=stamp,
        edited_at=stamp,
    )
    return item


def zendesk_transport(
    site: FakeHelpCentre,
    *,
    host: str = "acme.zendesk.com",
    auth: str | None = None,
    locale: str | None = None,
) -> httpx.MockTransport:
    path = f"/api/v2/help_center/{locale}/articles.json" if locale else "/api/v2/help_center/articles.json"

    def handler(request: httpx.Request) -> httpx.Response:
        failed = _guard(site, "zendesk", request, auth)
        if failed is not None:
            return failed
        if request.url.host != host or request.url.path != path:
            return _unexpected(request)
        assert request.url.params["page[size]"] == "100"
        after = int(request.url.params.get("page[after]", "0"))
        page = site.articles[after : after + site.page_size]
        more = after + site.page_size < len(site.articles)
        body = copy.deepcopy(recorded("zendesk")["list"])
        body["articles"] = [zendesk_article(a, host, locale or "en-us") for a in page]
        body["meta"] = {"has_more": more, "after_cursor": str(after + len(page)), "before_cursor": str(after)}
        body["links"] = {
            "next": f"https://{host}{path}?page[size]=100&page[after]={after + len(page)}" if more else None,
            "prev": None,
        }
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


# -- Freshdesk ----------------------------------------------------------------------------------


def freshdesk_transport(
    site: FakeHelpCentre, *, domain: str = "acme.freshdesk.com", auth: str | None = None
) -> httpx.MockTransport:
    """Category 3 holds folder 4 (public, with public subfolder 5) and folder 6 (agents only).

    The first three articles live in folder 4, restricted ones in folder 6, the rest in 5.
    """
    rec = recorded("freshdesk")

    def folder(folder_id: int, name: str, visibility: int, subfolders: int) -> dict[str, Any]:
        item = copy.deepcopy(rec["folder"])
        item.update(id=folder_id, name=name, visibility=visibility, sub_folders_count=subfolders)
        return item

    def placement(article: FakeArticle) -> int:
        if article.restricted:
            return 6
        public = [a for a in site.articles if not a.restricted]
        return 4 if public.index(article) < 3 else 5

    def article_json(article: FakeArticle) -> dict[str, Any]:
        item = copy.deepcopy(rec["article"])
        stamp = article.updated.strftime("%Y-%m-%dT%H:%M:%SZ")
        item.update(
            id=article.id,
            folder_id=placement(article),
            title=article.title,
            description=article.html,
            description_text="",
            status=1 if article.draft else 2,
            updated_at=stamp,
        )
        return item

    def paged(request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        per_page = int(request.url.params.get("per_page", "30"))
        assert per_page == 100
        number = int(request.url.params.get("page", "1"))
        size = min(per_page, site.page_size)
        chunk = items[(number - 1) * size : number * size]
        headers = {}
        if number * size < len(items):
            url = request.url.copy_set_param("page", str(number + 1))
            headers["Link"] = f'<{url}>; rel="next"'
        return httpx.Response(200, json=chunk, headers=headers)

    def handler(request: httpx.Request) -> httpx.Response:
        failed = _guard(site, "freshdesk", request, auth)
        if failed is not None:
            return failed
        if request.url.host != domain:
            return _unexpected(request)
        path = request.url.path
        if path == "/api/v2/solutions/categories":
            return paged(request, [copy.deepcopy(rec["category"])])
        if path == "/api/v2/solutions/categories/3":
            return httpx.Response(200, json=copy.deepcopy(rec["category"]))
        if path == "/api/v2/solutions/categories/3/folders":
            return paged(request, [folder(4, "Getting started", 1, 1), folder(6, "Agents only", 3, 0)])
        if path == "/api/v2/solutions/folders/4/subfolders":
            return paged(request, [folder(5, "Billing", 1, 0)])
        for folder_id in (4, 5, 6):
            if path == f"/api/v2/solutions/folders/{folder_id}/articles":
                mine = [article_json(a) for a in site.articles if placement(a) == folder_id]
                return paged(request, mine)
        return _unexpected(request)

    return httpx.MockTransport(handler)


# -- Confluence ---------------------------------------------------------------------------------


def confluence_transport(
    site: FakeHelpCentre, *, host: str = "acme.atlassian.net", space: str = "DOCS", auth: str | None = None
) -> httpx.MockTransport:
    """Pages visible to the API user: a restricted page is not listed at all, as Confluence does."""
    rec = recorded("confluence")

    def page_json(article: FakeArticle) -> dict[str, Any]:
        item = copy.deepcopy(rec["page"])
        item.update(id=str(article.id), title=article.title, status="draft" if article.draft else "current")
        item["body"]["storage"]["value"] = article.html
        item["version"]["createdAt"] = article.updated.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        item["_links"]["webui"] = f"/spaces/{space}/pages/{article.id}"
        return item

    def handler(request: httpx.Request) -> httpx.Response:
        failed = _guard(site, "confluence", request, auth)
        if failed is not None:
            return failed
        if request.url.host != host:
            return _unexpected(request)
        if request.url.path == "/wiki/api/v2/spaces":
            body = copy.deepcopy(rec["spaces"])
            for result in body["results"]:
                result["key"] = space
            if request.url.params["keys"] != space:
                body["results"] = []  # no such space (or not visible): an empty list, not a 404
            body["_links"]["base"] = f"https://{host}/wiki"
            return httpx.Response(200, json=body)
        if request.url.path == "/wiki/api/v2/spaces/98306/pages":
            params = request.url.params
            assert params["body-format"] == "storage" and params["status"] == "current"
            assert params["limit"] == "250"
            start = int(params.get("cursor", "0"))
            visible = [a for a in site.articles if not a.restricted]
            chunk = visible[start : start + site.page_size]
            body = copy.deepcopy(rec["pages"])
            body["results"] = [page_json(a) for a in chunk]
            body["_links"]["base"] = f"https://{host}/wiki"
            if start + site.page_size < len(visible):
                body["_links"]["next"] = (
                    f"/wiki/api/v2/spaces/98306/pages?body-format=storage&limit=250&status=current"
                    f"&cursor={start + site.page_size}"
                )
            else:
                del body["_links"]["next"]
            return httpx.Response(200, json=body, headers={"Link": ""})
        return _unexpected(request)

    return httpx.MockTransport(handler)


# -- Intercom ---------------------------------------------------------------------------------


def intercom_transport(
    site: FakeHelpCentre, *, host: str = "api.intercom.io", auth: str | None = None
) -> httpx.MockTransport:
    """Articles of the workspace; a restricted one is not listed (the API shows no audience)."""
    rec = recorded("intercom")

    def article_json(article: FakeArticle) -> dict[str, Any]:
        item = copy.deepcopy(rec["article"])
        item.update(
            id=str(article.id),
            title=article.title,
            body=article.html,
            state="draft" if article.draft else "published",
            updated_at=int(article.updated.timestamp()),
            url=f"https://help.acme.test/en/articles/{article.id}",
        )
        return item

    def handler(request: httpx.Request) -> httpx.Response:
        failed = _guard(site, "intercom", request, auth)
        if failed is not None:
            return failed
        if request.url.host != host or request.url.path != "/articles":
            return _unexpected(request)
        assert request.headers["intercom-version"] == "2.11"
        assert request.headers["accept"] == "application/json"
        number = int(request.url.params.get("page", "1"))
        listed = [a for a in site.articles if not a.restricted]
        total = max(1, -(-len(listed) // site.page_size))
        chunk = listed[(number - 1) * site.page_size : number * site.page_size]
        body = copy.deepcopy(rec["list"])
        body["data"] = [article_json(a) for a in chunk]
        body["total_count"] = len(listed)
        body["pages"] = {"type": "pages", "page": number, "per_page": site.page_size, "total_pages": total}
        if number < total:
            body["pages"]["next"] = f"https://{host}/articles?page={number + 1}&per_page=50"
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)
