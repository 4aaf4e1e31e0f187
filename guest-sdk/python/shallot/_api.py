"""The middleware base class, the view decorator, logging and config."""

from componentize_py_types import Err
from wit_world.imports import config as _config
from wit_world.imports import log as _log
from wit_world.imports import urls as _urls


class Middleware:
    """Base class for a middleware (optional: any class with hooks works).

    Define any of Django's hooks; the component exports exactly those:

    - ``process_request(self, request)`` -> ``None`` or a response
    - ``process_view(self, request, view_func, view_args, view_kwargs)`` ->
      ``None`` or a response; ``view_func`` has ``.name`` (the view's name
      in shallot.toml) and ``.route_name``
    - ``process_exception(self, request, exception)`` -> ``None`` or a
      response; ``exception`` is a :class:`shallot.ShallotError`
    - ``process_template_response(self, request, response)`` -> a response;
      runs on a :class:`shallot.TemplateResponse` from ``process_view``,
      the view or ``process_exception`` before the host renders it:
      change ``response.template_name`` and ``response.context_data``
    - ``process_response(self, request, response)`` -> a response

    One object serves every request its instance handles, like Django's,
    which serves the whole process. It is made once, when the component is
    built (the module is initialized then), and each instance starts from
    that object. Under the default ``instance_policy = "per-request"`` an
    instance serves one request, so nothing survives to the next. Under
    ``"reuse"`` a warm instance serves a series of requests, one at a time:
    what a hook leaves on ``self`` or in the module is there for the next
    request (maybe another user's), so set per-request state in
    ``process_request`` and keep nothing one request must not see. It is a
    cache at best: an instance is dropped when it traps or hits a limit,
    after ``max_requests``, or when idle for ``idle_timeout_secs``, and
    concurrent requests each have an instance of their own.
    """


def view(fn):
    """Marks the module's view: ``fn(request, *args, **kwargs)``."""
    fn._shallot_view = True
    return fn


class _Log:
    """``log.info("...")``: the host's log, tagged with this component."""

    def _at(self, level, message):
        _log.log(level, str(message))

    def trace(self, message):
        self._at(_log.Level.TRACE, message)

    def debug(self, message):
        self._at(_log.Level.DEBUG, message)

    def info(self, message):
        self._at(_log.Level.INFO, message)

    def warning(self, message):
        self._at(_log.Level.WARN, message)

    def error(self, message):
        self._at(_log.Level.ERROR, message)


class _Config:
    """``config.get("key")``: the component's `config` table in shallot.toml."""

    def get(self, key, default=None):
        value = _config.get(key)
        return default if value is None else value

    def all(self):
        return dict(_config.get_all())


class NoReverseMatch(Exception):
    """Django's ``NoReverseMatch``: no route of that name fits the arguments.
    Uncaught in a view, it is a 500, as in Django."""


def reverse(viewname, args=None, kwargs=None):
    """Django's ``reverse()`` over the pipeline's URLconf:
    ``reverse("api:item-detail", kwargs={"pk": 42})`` is ``"/api/items/42/"``."""
    if args and kwargs:
        raise ValueError("Don't mix *args and **kwargs in call to reverse()!")
    positional = [str(a) for a in args or ()]
    keywords = [(k, str(v)) for k, v in (kwargs or {}).items()]
    try:
        return _urls.reverse(viewname, positional, keywords)
    except Err as e:
        raise NoReverseMatch(e.value.message) from None


class ResolverMatch:
    """What ``resolve()`` found: the view's name in ``shallot.toml``, the
    route's name (with namespaces), and the URL's args and kwargs."""

    def __init__(self, info):
        self.view_name = info.view_name
        self.url_name = info.route_name
        self.args = list(info.args)
        self.kwargs = dict(info.kwargs)

    def __repr__(self):
        return f"ResolverMatch(view_name={self.view_name!r}, url_name={self.url_name!r})"


def resolve(path):
    """Django's ``resolve()`` against the request's URLconf: a
    ``ResolverMatch``, or ``Http404`` (Django's ``Resolver404``)."""
    from ._http import Http404

    info = _urls.resolve(path)
    if info is None:
        raise Http404(f"{path} does not resolve")
    return ResolverMatch(info)


def is_valid_path(path):
    """Django's ``is_valid_path()``: whether ``path`` resolves."""
    return _urls.resolve(path) is not None


log = _Log()
config = _Config()
