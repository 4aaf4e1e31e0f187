"""Django-like request and response objects over the host's resources.

Nothing is copied up front: each attribute asks the host for what it needs
(reading one header never copies the body).
"""

import json
from urllib.parse import parse_qsl

from componentize_py_types import Err
from wit_world.imports import types


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
        return resp

    @property
    def status_code(self):
        return self._handle.status()

    @status_code.setter
    def status_code(self, status):
        _host_call(self._handle.set_status, status)

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


class JsonResponse(HttpResponse):
    """`json.dumps(data)` as `application/json`, like Django's."""

    def __init__(self, data, status=200, **kwargs):
        kwargs.setdefault("content_type", "application/json")
        super().__init__(json.dumps(data), status=status, **kwargs)


def error_of(exc):
    """The WIT `error` for an exception raised by user code."""
    if isinstance(exc, ShallotError):
        kind, message = exc.kind, exc.message
    else:
        kind, message = "internal", str(exc)
    member = kind.upper().replace("-", "_")
    wit_kind = getattr(types.ErrorKind, member, types.ErrorKind.INTERNAL)
    return types.Error(kind=wit_kind, message=message)


def exception_of(error):
    """What `process_exception` receives for a WIT `error`."""
    kind = error.kind.name.lower().replace("_", "-")
    cls = _BY_KIND.get(kind, ShallotError)
    return cls(error.message, kind=kind)
