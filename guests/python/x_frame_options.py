"""Django's XFrameOptionsMiddleware (django/middleware/clickjacking.py), as
the Rust `x-frame-options` guest: every response gets X-Frame-Options with
the `x_frame_options` config value upper-cased (default DENY), unless it
already has one or is exempt.

Django's @xframe_options_exempt sets an attribute on the response; here it
is the response header Xframe-Options-Exempt (any value), which this
middleware removes from every response so the client never sees it."""

from shallot import Middleware, config

EXEMPT = "Xframe-Options-Exempt"


class XFrameOptions(Middleware):
    def process_response(self, request, response):
        exempt = EXEMPT in response
        del response[EXEMPT]
        # A view's own header (or @xframe_options_deny/_sameorigin) wins.
        if exempt or response.get("X-Frame-Options") is not None:
            return response
        # Read per call: the module runs at build time, before any config.
        response["X-Frame-Options"] = config.get("x_frame_options", "DENY").upper()
        return response
