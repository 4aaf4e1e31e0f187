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

A context processor is a function marked ``@context_processor``; it
returns a dict of JSON values the host merges over every rendered
template's context (Django's ``context_processors``)::

    from shallot import context_processor

    @context_processor
    def site(request):
        return {"site": "Shallot", "user": getattr(request, "user", "anonymous")}

Template filters are registered on a module-level ``Library``, as in a
Django ``templatetags`` module; ``mark_safe`` makes a result markup::

    from shallot import Library, mark_safe
    from shallot.utils import escape

    register = Library()

    @register.filter
    def emphasize(value):
        return mark_safe(f"<em>{escape(value)}</em>")

A filter gets the value and the template's arguments as JSON values
(``{{ text|words(3) }}`` calls ``words(text, 3)``) and returns one; no
request and no capability. An exception in either fails the rendering.

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
    StreamingHttpResponse,
    SuspiciousOperation,
    TemplateResponse,
)
from ._api import Middleware, NoReverseMatch, ResolverMatch, config, is_valid_path, log, resolve, reverse, view
from ._template import Library, SafeString, context_processor, mark_safe
from .utils import patch_vary_headers

__all__ = [
    "BadRequest",
    "Http404",
    "HttpRequest",
    "HttpResponse",
    "JsonResponse",
    "Library",
    "Middleware",
    "NoReverseMatch",
    "ResolverMatch",
    "PermissionDenied",
    "SafeString",
    "ShallotError",
    "StreamingHttpResponse",
    "SuspiciousOperation",
    "TemplateResponse",
    "config",
    "context_processor",
    "is_valid_path",
    "log",
    "mark_safe",
    "patch_vary_headers",
    "resolve",
    "reverse",
    "view",
]
