"""Context processors and template filters, Django's way.

A context processor is a function marked ``@context_processor``: given the
request, it returns a dict of JSON values, merged over the view's context
when a template response is rendered (Django's ``context_processors``)::

    from shallot import config, context_processor

    @context_processor
    def site(request):
        return {"site": config.get("site", "Shallot")}

Filters are registered on a module-level ``Library``, as in a Django
``templatetags`` module, and a ``SafeString`` result (``mark_safe``) is
markup the host does not escape again::

    from shallot import Library, mark_safe
    from shallot.utils import escape

    register = Library()

    @register.filter
    def shout(value):
        return f"{value}!".upper()

    @register.filter(name="em")
    def emphasize(value):
        return mark_safe(f"<em>{escape(value)}</em>")

``{{ title|shout }}`` then calls ``shout(title)``; a filter gets the value
and the template's arguments (``{{ text|words(3) }}`` is
``words(text, 3)``), decoded from JSON, and returns a JSON value.

This module does not touch the host, so it also runs outside a component.
"""

import math
import re

_FILTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SafeString(str):
    """Django's ``SafeString``: a ``str`` that is markup, not to be escaped
    again. Adding two keeps it safe; adding a plain ``str`` does not."""

    __slots__ = ()

    def __add__(self, rhs):
        joined = super().__add__(rhs)
        return SafeString(joined) if isinstance(rhs, SafeString) else joined

    def __str__(self):
        return self

    def __html__(self):
        return self


def mark_safe(s):
    """Django's ``mark_safe``: ``s`` as a :class:`SafeString`. A filter
    returning one gives the template markup, printed as is."""
    if isinstance(s, SafeString):
        return s
    return SafeString(str(s))


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def escape(text):
    """Django's ``escape``: ``text`` (made a ``str``) with ``& < > " '``
    escaped, as a :class:`SafeString`; the entities are the host's
    autoescaping's (MarkupSafe's). Like Django's, it escapes even a
    ``SafeString``."""
    return SafeString(str(text).translate(_ESCAPES))


def context_processor(fn):
    """Marks the module's context processor: ``fn(request)`` returns a dict
    of JSON values added to every rendered template's context."""
    fn._shallot_context_processor = True
    return fn


class Library:
    """Django's ``template.Library``, for filters: a module-level
    ``register = Library()`` makes the module a filter component.

    ``register.filter`` works as Django's: ``@register.filter``,
    ``@register.filter()``, ``@register.filter("name")``,
    ``@register.filter(name="name")`` and ``register.filter("name", func)``.
    Names are letters, digits and ``_``, not starting with a digit.
    ``is_safe`` is accepted and has no effect: a filter does not learn
    whether its input was safe, so only a ``mark_safe`` result is markup.
    """

    def __init__(self):
        self.filters = {}

    def filter(self, name=None, filter_func=None, *, is_safe=False):
        if name is None and filter_func is None:
            return lambda func: self.filter(func.__name__, func, is_safe=is_safe)
        if filter_func is None:
            if callable(name):
                return self.filter(name.__name__, name, is_safe=is_safe)
            return lambda func: self.filter(name, func, is_safe=is_safe)
        if not isinstance(name, str) or not _FILTER_NAME.match(name):
            raise ValueError(
                f"{name!r} is not a filter name (letters, digits and '_', not starting with a digit)"
            )
        if not callable(filter_func):
            raise TypeError(f"filter {name}: {filter_func!r} is not callable")
        try:
            filter_func.is_safe = is_safe  # as Django records it
        except AttributeError:
            pass  # a builtin
        self.filters[name] = filter_func
        return filter_func


def json_problem(value, path):
    """Where ``value`` holds something JSON cannot carry as it is, and what
    (``"values['tags'] is a set"``); None when it is all JSON."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}"
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problem = json_problem(item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a key that is not a str: {key!r}"
            problem = json_problem(item, f"{path}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{path} is a {type(value).__name__}"
