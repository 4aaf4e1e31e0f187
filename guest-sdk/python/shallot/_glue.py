"""Adapters between the WIT exports and the user's Django-style code.

`shallot_build` generates a module that binds the user's middleware object,
view function, context processor or filter ``Library`` here and defines
one export class per interface it exports. Every
exception from user code becomes a WIT `error` (Django's
`convert_exception_to_response`): the host answers it like any other layer.
"""

import json

from componentize_py_types import Err

from ._http import HttpRequest, HttpResponse, TemplateResponse, error_of, exception_of
from ._http import next_chunk as _next_chunk
from ._template import Library, SafeString, json_problem

_target = None


def bind(target):
    global _target
    _target = target


def bind_library(library, name):
    """Binds a filter ``Library``; run when the component is built, so a
    library without filters fails the build."""
    if not isinstance(library, Library):
        raise TypeError(f"{name} must be a shallot.Library, not {type(library).__name__}")
    if not library.filters:
        raise ValueError(f"the Library {name} registers no filter: add @{name}.filter to a function")
    bind(library)


class ViewFunc:
    """What `process_view` gets as ``view_func``: the resolved view's names."""

    def __init__(self, info):
        self.name = info.view_name
        self.route_name = info.route_name

    def __repr__(self):
        return f"<view {self.name}>"


def _run(hook, fn, args, kwargs=None, required=False):
    """Calls user code and returns its response's handle (or None). Every
    exception becomes the WIT error. The URL's kwargs travel as a dict, so
    a kwarg named like a parameter here cannot collide with it."""
    try:
        resp = fn(*args, **(kwargs or {}))
        if resp is None:
            if required:
                raise TypeError(f"{hook} returned None")
            return None
        if not isinstance(resp, HttpResponse):
            raise TypeError(f"{hook} must return an HttpResponse or None, not {type(resp).__name__}")
        resp._flush()  # e.g. context_data changed in place
        return resp._handle
    except Err:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a response
        raise Err(error_of(exc)) from None


def process_request(req):
    return _run("process_request", _target.process_request, (HttpRequest(req),))


def process_view(req, info):
    args = (HttpRequest(req), ViewFunc(info), list(info.args), dict(info.kwargs))
    return _run("process_view", _target.process_view, args)


def process_exception(req, err):
    args = (HttpRequest(req), exception_of(err))
    return _run("process_exception", _target.process_exception, args)


def process_template_response(req, resp):
    args = (HttpRequest(req), TemplateResponse._wrap(resp))
    return _run("process_template_response", _target.process_template_response, args, required=True)


def process_response(req, resp):
    args = (HttpRequest(req), HttpResponse._wrap(resp))
    return _run("process_response", _target.process_response, args, required=True)


def handle(req, info):
    args = (HttpRequest(req), *info.args)
    return _run("the view", _target, args, dict(info.kwargs), required=True)


def next_chunk(source):
    return _guarded(_next_chunk, source)


def _guarded(fn, *args):
    """Calls user code; every exception becomes the WIT error."""
    try:
        return fn(*args)
    except Err:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes an error
        raise Err(error_of(exc)) from None


def _context(req):
    name = getattr(_target, "__name__", "context_processor")
    values = _target(HttpRequest(req))
    if not isinstance(values, dict):
        raise TypeError(f"the context processor {name} must return a dict, not {type(values).__name__}")
    problem = json_problem(values, "values")
    if problem:
        raise TypeError(f"the context processor {name} returned a value JSON cannot carry: {problem}")
    return json.dumps(values)


def context(req):
    return _guarded(_context, req)


def filter_names():
    return list(_target.filters)


def _apply(name, value, args):
    from wit_world.exports.template_filters import Filtered

    fn = _target.filters.get(name)
    if fn is None:
        raise LookupError(f"no filter {name}")
    result = fn(json.loads(value), *[json.loads(a) for a in args])
    if isinstance(result, SafeString):
        return Filtered(json=json.dumps(result), safe=True)
    problem = json_problem(result, "result")
    if problem:
        raise TypeError(f"the filter {name} returned a value JSON cannot carry: {problem}")
    return Filtered(json=json.dumps(result), safe=False)


def apply_filter(name, value, args):
    return _guarded(_apply, name, value, args)
