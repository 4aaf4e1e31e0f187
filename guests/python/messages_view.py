"""A view using ``shallot.messages``, for the messages tests: ``?level=N``
sets the request's level (``set_level``), ``?add=TEXT`` adds it as a
success message (and a debug one, below the default level) and redirects
to ``/m/?then=template:page.html``; otherwise it answers the messages it
reads (``get_messages``, which consumes them), one ``LEVEL TAGS: TEXT``
a line. Without the ``messages`` middleware ``add`` raises
``MessageFailure``: a 500."""

from shallot import HttpResponse, messages, view


@view
def messages_view(request):
    if "level" in request.GET:
        messages.set_level(request, int(request.GET["level"]))
    if "add" in request.GET:
        messages.success(request, request.GET["add"])
        messages.debug(request, "below the level")
        response = HttpResponse(status=302)
        response["Location"] = "/m/?then=template:page.html"
        return response
    lines = [f"{m.level} {m.tags}: {m}" for m in messages.get_messages(request)]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
