"""CorsMiddleware in Python, as in ../shared/bench/django: a preflight is
answered 204 without reaching the view; every response gets
`Access-Control-Allow-Origin: *` and `Origin` in `Vary`."""

from shallot import HttpResponse, Middleware
from shallot.utils import patch_vary_headers


class Cors(Middleware):
    def process_request(self, request):
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            del response["Content-Type"]
            response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Authorization, X-Request-Id"
            response["Access-Control-Max-Age"] = "86400"
            return response
        return None

    def process_response(self, request, response):
        response["Access-Control-Allow-Origin"] = "*"
        patch_vary_headers(response, ("Origin",))
        return response
