"""Adapters between the WIT exports and the user's Django-style code.

`shallot_build` generates a module that binds the user's middleware object
or view function here and defines one export class per hook it has. Every
exception from user code becomes a WIT `error` (Django's
`convert_exception_to_response`): the host answers it like any other layer.
"""

from componentize_py_types import Err

from ._http import HttpRequest, HttpResponse, error_of, exception_of

_target = None


def bind(target):
    global _target
    _target = target


class ViewFunc:
    """What `process_view` gets as ``view_func``: the resolved view's names."""

    def __init__(self, info):
        self.name = info.view_name
        self.route_name = info.route_name

    def __repr__(self):
        return f"<view {self.name}>"


def _handle_of(resp, hook):
    if resp is None:
        return None
    if not isinstance(resp, HttpResponse):
        raise TypeError(f"{hook} must return an HttpResponse or None, not {type(resp).__name__}")
    return resp._handle


def _call(hook, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Err:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a response
        raise Err(error_of(exc)) from None


def process_request(req):
    resp = _call("process_request", _target.process_request, HttpRequest(req))
    return _call("process_request", _handle_of, resp, "process_request")


def process_view(req, info):
    kwargs = dict(info.kwargs)
    resp = _call(
        "process_view",
        _target.process_view,
        HttpRequest(req),
        ViewFunc(info),
        list(info.args),
        kwargs,
    )
    return _call("process_view", _handle_of, resp, "process_view")


def process_exception(req, err):
    resp = _call(
        "process_exception", _target.process_exception, HttpRequest(req), exception_of(err)
    )
    return _call("process_exception", _handle_of, resp, "process_exception")


def process_response(req, resp):
    out = _call(
        "process_response",
        _target.process_response,
        HttpRequest(req),
        HttpResponse._wrap(resp),
    )
    if out is None:
        raise Err(error_of(TypeError("process_response returned None")))
    return _call("process_response", _handle_of, out, "process_response")


def handle(req, info):
    resp = _call("view", _target, HttpRequest(req), *info.args, **dict(info.kwargs))
    if resp is None:
        raise Err(error_of(TypeError("the view returned None")))
    return _call("view", _handle_of, resp, "view")
