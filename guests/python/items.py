"""The `items` view in Python: `GET /items/<int:item_id>/` answers
`{"id": 42, "name": "item-42"}`; other methods get 405 like
`@require_GET`."""

from shallot import HttpResponse, JsonResponse, view


@view
def item(request, item_id):
    if request.method != "GET":
        response = HttpResponse(status=405)
        response["Allow"] = "GET"
        return response
    return JsonResponse({"id": int(item_id), "name": f"item-{int(item_id)}"})
