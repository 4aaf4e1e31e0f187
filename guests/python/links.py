"""The `links` view in Python: answers the path ``reverse()`` gives for
the query's ``name``, the other query parameters as keyword arguments
(``/links/?name=item&item_id=42`` answers ``/items/42/``). A
``NoReverseMatch`` escapes the view: a 500, as in Django."""

from shallot import HttpResponse, reverse, view


@view
def links(request):
    name = request.GET.get("name", "")
    kwargs = {key: request.GET[key] for key in request.GET if key != "name"}
    return HttpResponse(reverse(name, kwargs=kwargs), content_type="text/plain; charset=utf-8")
