"""Helpers from `django.utils`, same behaviour (`escape` writes the host's
autoescaping's entities, `&#34;` and `&#39;` for quotes)."""

import re

from ._template import escape

__all__ = ["escape", "patch_vary_headers"]

_cc_delim_re = re.compile(r"\s*,\s*")


def patch_vary_headers(response, newheaders):
    """Adds `newheaders` to the response's `Vary`, like Django's
    `django.utils.cache.patch_vary_headers` (no duplicates, `*` wins)."""
    if response.has_header("Vary"):
        vary_headers = _cc_delim_re.split(response["Vary"])
    else:
        vary_headers = []
    existing = {header.lower() for header in vary_headers}
    vary_headers += [h for h in newheaders if h.lower() not in existing]
    if "*" in vary_headers:
        response["Vary"] = "*"
    else:
        response["Vary"] = ", ".join(vary_headers)
