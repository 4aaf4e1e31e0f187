"""Template filters in Python, the same as guests/text-filters, registered
as in a Django ``templatetags`` module:

- ``shout``: the value in capitals with "!" (``{{ title|shout }}``);
- ``emphasize``: ``<em>value</em>``, the value escaped, marked safe;
- ``words(n)``: the first ``n`` words, like Django's ``truncatewords``;
- ``explode``: raises, to show a failing filter fails only its request.
"""

import json

from shallot import Library, mark_safe
from shallot.utils import escape

register = Library()


def _text(value):
    """A string as it is, anything else as its JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


@register.filter
def shout(value):
    return f"{_text(value).upper()}!"


@register.filter
def emphasize(value):
    return mark_safe(f"<em>{escape(_text(value))}</em>")


@register.filter
def words(value, n=None):
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError("words needs the number of words, e.g. words(3)")
    all_words = _text(value).split()
    out = " ".join(all_words[:n])
    return out + " …" if len(all_words) > n else out


@register.filter
def explode(value):
    raise RuntimeError("the explode filter always fails")
