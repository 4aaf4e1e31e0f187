"""The middleware base class, the view decorator, logging and config."""

from wit_world.imports import config as _config
from wit_world.imports import log as _log


class Middleware:
    """Base class for a middleware (optional: any class with hooks works).

    Define any of Django's hooks; the component exports exactly those:

    - ``process_request(self, request)`` -> ``None`` or a response
    - ``process_view(self, request, view_func, view_args, view_kwargs)`` ->
      ``None`` or a response; ``view_func`` has ``.name`` (the view's name
      in shallot.toml) and ``.route_name``
    - ``process_exception(self, request, exception)`` -> ``None`` or a
      response; ``exception`` is a :class:`shallot.ShallotError`
    - ``process_response(self, request, response)`` -> a response

    One object serves every request its instance handles (like Django's,
    which serves the whole process).
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


log = _Log()
config = _Config()
