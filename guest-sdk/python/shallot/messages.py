"""Django's messages framework (``django.contrib.messages``): one-time
notices for the next page a user sees, over the ``messages`` middleware's
request attributes (see the Rust SDK's ``shallot_guest::messages``)::

    from shallot import HttpResponse, view
    from shallot import messages

    @view
    def save(request):
        messages.success(request, "Your changes were saved.")
        response = HttpResponse(status=302)
        response["Location"] = "/"
        return response

The middleware sets ``messages`` (the messages to show, a JSON list of
``{"level", "message", "extra_tags"}``) and ``messages_level``; adding
appends to ``messages_queued``; reading (``get_messages``, and the
``messages-context`` context processor on every rendering) sets
``messages_used``, Django's ``used``: the messages read are not stored
again.
"""

import json

DEBUG = 10
INFO = 20
SUCCESS = 25
WARNING = 30
ERROR = 40

DEFAULT_TAGS = {
    DEBUG: "debug",
    INFO: "info",
    SUCCESS: "success",
    WARNING: "warning",
    ERROR: "error",
}

DEFAULT_LEVELS = {
    "DEBUG": DEBUG,
    "INFO": INFO,
    "SUCCESS": SUCCESS,
    "WARNING": WARNING,
    "ERROR": ERROR,
}

_LOADED = "messages"
_QUEUED = "messages_queued"
_USED = "messages_used"
_LEVEL = "messages_level"


class MessageFailure(Exception):
    """Django's ``MessageFailure``: a message added without the
    ``messages`` middleware (a 500 unless handled)."""


class Message:
    """Django's ``storage.base.Message``: ``str(message)`` is its text."""

    def __init__(self, level, message, extra_tags=""):
        self.level = int(level)
        self.message = message
        self.extra_tags = extra_tags or ""

    def __eq__(self, other):
        if not isinstance(other, Message):
            return NotImplemented
        return self.level == other.level and self.message == other.message

    def __str__(self):
        return str(self.message)

    def __repr__(self):
        extra_tags = f", extra_tags={self.extra_tags!r}" if self.extra_tags else ""
        return f"Message(level={self.level}, message={self.message!r}{extra_tags})"

    @property
    def level_tag(self):
        return DEFAULT_TAGS.get(self.level, "")

    @property
    def tags(self):
        return " ".join(tag for tag in [self.extra_tags, self.level_tag] if tag)


def _attribute(request, name):
    return getattr(request, name, None)


def _load(request, name):
    try:
        items = json.loads(_attribute(request, name) or "[]")
    except ValueError:
        return []
    return [
        Message(item["level"], item["message"], item.get("extra_tags") or "")
        for item in items
        if isinstance(item, dict) and "level" in item and "message" in item
    ]


def _dump(messages):
    return json.dumps(
        [{"level": m.level, "message": str(m.message), "extra_tags": m.extra_tags} for m in messages],
        separators=(",", ":"),
    )


def _installed(request):
    return _attribute(request, _LOADED) is not None


def add_message(request, level, message, extra_tags="", fail_silently=False):
    """Django's ``add_message``: queue ``message`` for the next page shown.
    An empty message, or one below ``get_level(request)``, is dropped.
    Without the middleware: ``MessageFailure``, or nothing with
    ``fail_silently``."""
    if not _installed(request):
        if fail_silently:
            return
        raise MessageFailure(
            "You cannot add messages without installing the messages middleware "
            "(guests/messages, Django's MessageMiddleware)"
        )
    if not message:
        return
    level = int(level)
    if level < get_level(request):
        return
    queued = _load(request, _QUEUED)
    queued.append(Message(level, str(message), extra_tags))
    setattr(request, _QUEUED, _dump(queued))


def get_messages(request):
    """Iterating Django's ``get_messages(request)``: the stored messages,
    then those added in this request; reading marks them used, as Django's
    iteration does. Without the middleware, an empty list."""
    if not _installed(request):
        return []
    messages = _load(request, _LOADED)
    queued = _load(request, _QUEUED)
    if queued:
        messages.extend(queued)
        setattr(request, _LOADED, _dump(messages))
        setattr(request, _QUEUED, "[]")
    setattr(request, _USED, "1")
    return messages


def get_level(request):
    """Django's ``get_level``: the minimum level recorded (the
    middleware's ``level``, else ``INFO``)."""
    try:
        return int(_attribute(request, _LEVEL))
    except (TypeError, ValueError):
        return INFO


def set_level(request, level):
    """Django's ``set_level``: ``False`` without the middleware."""
    if not _installed(request):
        return False
    setattr(request, _LEVEL, int(level))
    return True


def debug(request, message, extra_tags="", fail_silently=False):
    """Add a message with the ``DEBUG`` level."""
    add_message(request, DEBUG, message, extra_tags=extra_tags, fail_silently=fail_silently)


def info(request, message, extra_tags="", fail_silently=False):
    """Add a message with the ``INFO`` level."""
    add_message(request, INFO, message, extra_tags=extra_tags, fail_silently=fail_silently)


def success(request, message, extra_tags="", fail_silently=False):
    """Add a message with the ``SUCCESS`` level."""
    add_message(request, SUCCESS, message, extra_tags=extra_tags, fail_silently=fail_silently)


def warning(request, message, extra_tags="", fail_silently=False):
    """Add a message with the ``WARNING`` level."""
    add_message(request, WARNING, message, extra_tags=extra_tags, fail_silently=fail_silently)


def error(request, message, extra_tags="", fail_silently=False):
    """Add a message with the ``ERROR`` level."""
    add_message(request, ERROR, message, extra_tags=extra_tags, fail_silently=fail_silently)
