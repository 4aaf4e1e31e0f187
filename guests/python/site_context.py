"""A context processor in Python, the same as guests/site-context: ``site``
from its config (default "Shallot") and ``user``, the request attribute an
authentication middleware sets, or "anonymous" (Django's ``auth`` context
processor, reduced to a name). ``fail = "yes"`` in its config makes it
raise, and ``broken = "yes"`` return a set, which JSON cannot carry (a
``TypeError`` naming it), for the tests."""

from shallot import config, context_processor, log


@context_processor
def site(request):
    log.info("call context")
    if config.get("fail") is not None:
        raise RuntimeError("site-context was told to fail")
    values = {
        "site": config.get("site", "Shallot"),
        "user": getattr(request, "user", "anonymous"),
    }
    if config.get("broken") is not None:
        values["tags"] = {"a", "b"}
    return values
