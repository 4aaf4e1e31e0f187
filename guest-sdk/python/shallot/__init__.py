"""Shallot's Python SDK: middleware and views that read like Django's.

A middleware is a class with any of Django's hooks; only the hooks it
defines are exported by the built component::

    from shallot import Middleware

    class SecurityHeaders(Middleware):
        def process_response(self, request, response):
            response["X-Frame-Options"] = "DENY"
            return response

A view is a function taking the request and the URL's arguments::

    from shallot import HttpResponse, view

    @view
    def hello(request):
        return HttpResponse("hello world", content_type="text/plain; charset=utf-8")

A view may answer with a template the host renders (minijinja, with
Django's Jinja2 conventions), after any ``process_template_response``::

    from shallot import TemplateResponse, view

    @view
    def catalog(request):
        return TemplateResponse(request, "catalog.html", {"items": ["tea"]})

Build with ``python -m shallot_build app.py -o app.wasm`` (see README).
"""

from ._http import (
    BadRequest,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    PermissionDenied,
    ShallotError,
    SuspiciousOperation,
    TemplateResponse,
)
from ._api import Middleware, NoReverseMatch, config, log, reverse, view
from .utils import patch_vary_headers

__all__ = [
    "BadRequest",
    "Http404",
    "HttpRequest",
    "HttpResponse",
    "JsonResponse",
    "Middleware",
    "NoReverseMatch",
    "PermissionDenied",
    "ShallotError",
    "SuspiciousOperation",
    "TemplateResponse",
    "config",
    "log",
    "patch_vary_headers",
    "reverse",
    "view",
]
