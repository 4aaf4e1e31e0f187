"""The `catalog` view in Python: Django's ``TemplateResponse``, rendered by
the host from the first of ``missing.html`` and ``catalog.html`` that
exists. With ``?broken`` the context holds a set, which JSON cannot carry:
a ``TypeError`` in the view, a 500."""

from shallot import TemplateResponse, view


@view
def catalog(request):
    items = [{"name": "Tea", "price": 3}, {"name": "Fish & <Chips>", "price": 7}]
    context = {"items": items, "title": "Catalog"}
    if "broken" in request.GET:
        context["tags"] = {"a", "b"}
    return TemplateResponse(request, ["missing.html", "catalog.html"], context)
