"""Django-like request and response objects over the host's resources.

Nothing is copied up front: each attribute asks the host for what it needs
(reading one header never copies the body).
"""

import json
import traceback
from urllib.parse import parse_qsl

from componentize_py_types import Err
from wit_world.imports import types

from ._api import log


class ShallotError(Exception):
    """An error with a WIT `error-kind` (`"internal"`, `"not-found"`, ...).

    Raising one from a hook or a view answers with the kind's status; it
    is also what `process_exception` receives.
    """

    kind = "internal"

    def __init__(self, message="", kind=None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.message = message


class Http404(ShallotError):
    kind = "not-found"


class PermissionDenied(ShallotError):
    kind = "permission-denied"


class BadRequest(ShallotError):
    kind = "bad-request"


class SuspiciousOperation(ShallotError):
    kind = "suspicious-operation"


_BY_KIND = {
    "not-found": Http404,
    "permission-denied": PermissionDenied,
    "bad-request": BadRequest,
    "suspicious-operation": SuspiciousOperation,
}


def _host_call(fn, *args):
    """A host call whose WIT result is an `error`, as a Python exception."""
    try:
        return fn(*args)
    except Err as e:
        raise ValueError(e.value.message) from None


class _Headers:
    """Case-insensitive, read-only view of the request's headers."""

    def __init__(self, handle):
        self._handle = handle

    def __getitem__(self, name):
        value = self._handle.header(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name, default=None):
        value = self._handle.header(name)
        return default if value is None else value

    def __contains__(self, name):
        return self._handle.header(name) is not None

    def __iter__(self):
        return iter([name for name, _ in self._handle.headers()])

    def items(self):
        return list(self._handle.headers())


class QueryDict(dict):
    """`request.GET`: like Django's, `get` and `[]` give a key's last value."""

    def __init__(self, query):
        super().__init__()
        for key, value in parse_qsl(query, keep_blank_values=True):
            super().setdefault(key, []).append(value)

    def __getitem__(self, key):
        return super().__getitem__(key)[-1]

    def get(self, key, default=None):
        values = super().get(key)
        return values[-1] if values else default

    def getlist(self, key):
        return list(super().get(key, []))


class HttpRequest:
    """The request, lent to this hook call.

    Attributes set on it (``request.user = "alice"``) are request
    attributes on the host: later layers see them, in any language, as
    strings. Keep no reference to a request after the hook returns.
    """

    def __init__(self, handle):
        object.__setattr__(self, "_handle", handle)

    @property
    def method(self):
        return self._handle.method()

    @property
    def path(self):
        return self._handle.path()

    path_info = path

    @property
    def headers(self):
        return _Headers(self._handle)

    @property
    def GET(self):
        return QueryDict(self._handle.query())

    @property
    def body(self):
        return self._handle.body()

    def read(self, size=-1):
        """Django's `request.read(size)`: the next `size` bytes of the body
        (fewer only at its end), or all the rest when `size` is negative;
        `b""` once it is all read. A body larger than the server's
        `max_body_bytes` can only be read this way, a chunk at a time."""
        if size is None or size < 0:
            parts = []
            while chunk := self._read_chunk(1 << 16):
                parts.append(chunk)
            return b"".join(parts)
        parts, left = [], size
        while left > 0 and (chunk := self._read_chunk(left)):
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def _read_chunk(self, size):
        try:
            return self._handle.read_body(min(size, 1 << 20))
        except Err as e:
            raise exception_of(e.value) from None

    @property
    def scheme(self):
        return self._handle.scheme()

    @property
    def META(self):
        meta = {
            "REQUEST_METHOD": self.method,
            "PATH_INFO": self.path,
            "QUERY_STRING": self._handle.query(),
            "REMOTE_ADDR": self._handle.client_addr(),
        }
        for name, value in self._handle.headers():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            meta[key] = value
        return meta

    def __getattr__(self, name):
        value = self._handle.attribute(name)
        if value is None:
            raise AttributeError(name)
        return value

    def __setattr__(self, name, value):
        self._handle.set_attribute(name, str(value))


class HttpResponse:
    """A response; ``response["Header"] = value`` sets a header."""

    def __init__(self, content=b"", status=200, content_type=None, headers=None):
        handle = types.Response(status)
        _host_call(
            handle.set_header,
            "Content-Type",
            content_type or "text/html; charset=utf-8",
        )
        for name, value in (headers or {}).items():
            _host_call(handle.set_header, name, value)
        object.__setattr__(self, "_handle", handle)
        self.content = content

    @classmethod
    def _wrap(cls, handle):
        resp = cls.__new__(cls)
        object.__setattr__(resp, "_handle", handle)
        resp._init_wrapped()
        return resp

    def _init_wrapped(self):
        pass

    def _flush(self):
        """Hands what is kept on this side to the host: called when the
        response leaves user code."""

    @property
    def status_code(self):
        return self._handle.status()

    @status_code.setter
    def status_code(self, status):
        _host_call(self._handle.set_status, status)

    @property
    def streaming(self):
        return self._handle.is_streaming()

    @property
    def content(self):
        return self._handle.body()

    @content.setter
    def content(self, value):
        if isinstance(value, str):
            value = value.encode("utf-8")
        self._handle.set_body(bytes(value))

    def __getitem__(self, name):
        value = self._handle.header(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name, value):
        _host_call(self._handle.set_header, name, str(value))

    def __delitem__(self, name):
        self._handle.remove_header(name)

    def __contains__(self, name):
        return self._handle.has_header(name)

    has_header = __contains__

    def get(self, name, default=None):
        value = self._handle.header(name)
        return default if value is None else value

    def append(self, name, value):
        """Adds a value without replacing the ones already there."""
        _host_call(self._handle.append_header, name, str(value))

    def items(self):
        return list(self._handle.headers())


# The bodies this instance is streaming, by source id (see next_chunk).
_SOURCES = {}
_LAST_SOURCE = [0]


class StreamingHttpResponse(HttpResponse):
    """Django's ``StreamingHttpResponse``: the body is an iterable of bytes
    (or str, encoded as UTF-8), pulled by the host one piece at a time
    after every ``process_response`` has run, so neither side holds it
    whole. Middleware may change its status and headers; reading or
    setting ``content`` raises, as in Django."""

    streaming = True

    def __init__(self, streaming_content=(), status=200, content_type=None, headers=None):
        super().__init__(b"", status=status, content_type=content_type, headers=headers)
        _LAST_SOURCE[0] += 1
        _SOURCES[_LAST_SOURCE[0]] = iter(streaming_content)
        self._handle.stream_from(_LAST_SOURCE[0])


def next_chunk(source):
    """``body-source.next-chunk``: the next non-empty piece, or ``b""`` at
    the end (the iterator is dropped then)."""
    chunks = _SOURCES.get(source)
    if chunks is None:
        raise ValueError(f"no streaming body {source}")
    for chunk in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        if chunk:
            return bytes(chunk)
    del _SOURCES[source]
    return b""


class JsonResponse(HttpResponse):
    """`json.dumps(data)` as `application/json`, like Django's."""

    def __init__(self, data, status=200, **kwargs):
        kwargs.setdefault("content_type", "application/json")
        super().__init__(json.dumps(data), status=status, **kwargs)


def _context_json(context):
    """The context as the JSON object the host renders with; a value JSON
    cannot carry is refused here, where the user's code still is."""
    if not isinstance(context, dict):
        raise TypeError(f"a template context must be a dict, not {type(context).__name__}")
    try:
        return json.dumps(context, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"the template context is not JSON-serializable: {e}") from None


def _names(template):
    if isinstance(template, str):
        return [template]
    names = list(template)
    if not all(isinstance(n, str) for n in names):
        raise TypeError("a template name must be a str or a list of str")
    return names


class TemplateResponse(HttpResponse):
    """Django's ``TemplateResponse``: the host renders it after every
    ``process_template_response`` has run, with the first of ``template``
    (a name or a list of names) that exists, ``context`` (a dict of JSON
    values) and the globals ``request``, ``url``, ``static``,
    ``csrf_token`` and ``csrf_input``.

    Until then ``template_name`` and ``context_data`` may be changed;
    ``context_data`` is a dict, changed in place, sent back to the host
    when the hook or view returns. ``template_name`` reads as a ``str``
    when there is one candidate, else as a list (the host keeps a list).
    Setting ``content`` renders it by hand: it is then a plain response.
    """

    def __init__(self, request, template, context=None, status=200, content_type=None, headers=None):
        super().__init__(b"", status=status, content_type=content_type, headers=headers)
        self._context = {} if context is None else context
        _host_call(self._handle.set_template, _names(template), _context_json(self._context))

    def _init_wrapped(self):
        self._context = None  # read from the host on first use

    @property
    def is_rendered(self):
        return not self._handle.template_names()

    @property
    def template_name(self):
        names = self._handle.template_names()
        return names[0] if len(names) == 1 else names

    @template_name.setter
    def template_name(self, template):
        # set-template replaces both, so the current context goes along.
        _host_call(self._handle.set_template, _names(template), _context_json(self.context_data))

    @property
    def context_data(self):
        if self._context is None:
            text = self._handle.context()
            self._context = {} if text is None else json.loads(text)
        return self._context

    @context_data.setter
    def context_data(self, context):
        _context_json(context)  # refuse it now rather than when the hook returns
        self._context = context

    def _flush(self):
        # A response rendered by hand (content set) has no context left.
        if self._context is not None and not self.is_rendered:
            _host_call(self._handle.set_context, _context_json(self._context))


def error_of(exc):
    """The WIT `error` for an exception raised by user code."""
    if isinstance(exc, ShallotError):
        kind, message = exc.kind, exc.message
    else:
        kind, message = "internal", str(exc)
        # Django logs an unhandled exception with its traceback
        # (`django.request`).
        log.error("".join(traceback.format_exception(exc)).rstrip())
    member = kind.upper().replace("-", "_")
    wit_kind = getattr(types.ErrorKind, member, types.ErrorKind.INTERNAL)
    return types.Error(kind=wit_kind, message=message)


def exception_of(error):
    """What `process_exception` receives for a WIT `error`."""
    kind = error.kind.name.lower().replace("_", "-")
    cls = _BY_KIND.get(kind, ShallotError)
    return cls(error.message, kind=kind)
