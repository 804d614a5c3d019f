"""What the routers depend on: the app's :class:`~.service.Service` and the caller, checked
as the route's :class:`~.security.Access` requires."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .schemas import ErrorBody
from .security import Access, Client
from .service import Service

__all__ = ["ERRORS", "Customer", "KeyHolder", "Operator", "PolicyRoute", "Svc"]

#: The error responses every route documents.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 429, 502, 503, 504)
}

_bearer = HTTPBearer(auto_error=False, description="An API key from GROKASSIST_SERVER_API_KEYS")


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


async def _caller(access: Access, request: Request, *, rate_limited: bool = True) -> Client:
    own = f"{request.url.scheme}://{request.url.netloc}"
    host = request.client.host if request.client else None
    headers = request.headers
    return await service(request).authorize(
        access, headers.get("authorization"), headers.get("origin"), own, host, rate_limited=rate_limited
    )


async def customer(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
) -> Client:
    return await _caller(Access.CUSTOMER, request)


async def key_holder(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
) -> Client:
    return await _caller(Access.KEY, request)


async def operator(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
) -> Client:
    return await _caller(Access.KEY, request, rate_limited=False)


Svc = Annotated[Service, Depends(service)]
#: A caller of a customer route: a key, or anonymous while ``allow_anonymous`` is on.
Customer = Annotated[Client, Depends(customer)]
#: A caller of a key route: a valid key whenever keys are configured.
KeyHolder = Annotated[Client, Depends(key_holder)]
#: A key holder, not rate limited (monitoring must work while the store is down).
Operator = Annotated[Client, Depends(operator)]


_ACCESS: dict[Callable[..., Any], Access] = {
    customer: Access.CUSTOMER,
    key_holder: Access.KEY,
    operator: Access.KEY,
}


def _access_of(dependant: Dependant) -> Access | None:
    for sub in dependant.dependencies:
        found = _ACCESS.get(sub.call) if sub.call is not None else None
        if found is not None:
            return found
        found = _access_of(sub)
        if found is not None:
            return found
    return None


class PolicyRoute(APIRoute):
    """A route that checks the caller's key (as its :class:`Access` says) before anything else:
    before the body is read, parsed or validated, so that a caller without a key learns nothing
    from a keyed route, not even whether its request was well formed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        access = _access_of(self.dependant)
        if access is None:
            return handler

        async def checked(request: Request) -> Response:
            service(request).check_key(access, request.headers.get("authorization"))
            return await handler(request)

        return checked
