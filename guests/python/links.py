"""The `links` view in Python: answers the path ``reverse()`` gives for
the query's ``name``, the other query parameters as keyword arguments
(``/links/?name=item&item_id=42`` answers ``/items/42/``). A
``NoReverseMatch`` escapes the view: a 500, as in Django. With
``?resolve=PATH`` it answers what ``resolve()`` finds for PATH
(``api:user ann``), or 404 when nothing does (``Resolver404``)."""

from shallot import HttpResponse, resolve, reverse, view


@view
def links(request):
    if "resolve" in request.GET:
        match = resolve(request.GET["resolve"])
        found = f"{match.url_name} {','.join(match.kwargs.values())}"
        return HttpResponse(found, content_type="text/plain; charset=utf-8")
    name = request.GET.get("name", "")
    kwargs = {key: request.GET[key] for key in request.GET if key != "name"}
    return HttpResponse(reverse(name, kwargs=kwargs), content_type="text/plain; charset=utf-8")
