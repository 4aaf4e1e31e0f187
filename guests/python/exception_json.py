"""ExceptionJsonMiddleware in Python: an exception from the view becomes
500 `{"error": "<str(exc)>"}`."""

from shallot import JsonResponse, Middleware


class ExceptionJson(Middleware):
    def process_exception(self, request, exception):
        return JsonResponse({"error": str(exception)}, status=500)
