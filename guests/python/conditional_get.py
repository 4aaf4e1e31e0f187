"""Django's ConditionalGetMiddleware in Python, passing the same checks as
the Rust `conditional-get`: on GET only, a response with a body gets an
ETag (the quoted MD5 of the body) unless it has one or says
`Cache-Control: no-store`; then the request's preconditions are answered
(RFC 9110 13.2.2) with 412 or 304, on 2xx responses only.

The helpers are Django's own code (`django.utils.http`, `django.utils.cache`),
since the SDK does not ship them."""

import re
from datetime import UTC, datetime
from hashlib import md5

from shallot import HttpResponse, Middleware, log

ETAG_MATCH = re.compile(r'\A((?:W/)?"[^"]*")\Z')
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
__D = r"(?P<day>[0-9]{2})"
__D2 = r"(?P<day>[ 0-9][0-9])"
__M = r"(?P<mon>\w{3})"
__Y = r"(?P<year>[0-9]{4})"
__Y2 = r"(?P<year>[0-9]{2})"
__T = r"(?P<hour>[0-9]{2}):(?P<min>[0-9]{2}):(?P<sec>[0-9]{2})"
RFC1123_DATE = re.compile(r"^\w{3}, %s %s %s %s GMT$" % (__D, __M, __Y, __T))
RFC850_DATE = re.compile(r"^\w{6,9}, %s-%s-%s %s GMT$" % (__D, __M, __Y2, __T))
ASCTIME_DATE = re.compile(r"^\w{3} %s %s %s %s$" % (__M, __D2, __T, __Y))


class ConditionalGet(Middleware):
    def process_response(self, request, response):
        # Too late to stop an unsafe method with a 412; and a HEAD body is
        # empty, so no accurate ETag can be made for it.
        if request.method != "GET":
            return response

        if needs_etag(response) and not response.has_header("ETag"):
            set_response_etag(response)

        etag = response.get("ETag")
        last_modified = response.get("Last-Modified")
        last_modified = last_modified and parse_http_date_safe(last_modified)

        if etag or last_modified:
            return get_conditional_response(
                request, etag=etag, last_modified=last_modified, response=response
            )
        return response


def needs_etag(response):
    directives = split_directive_names(response.get("Cache-Control", ""))
    return "no-store" not in directives


def set_response_etag(response):
    if not response.streaming and response.content:
        response["ETag"] = quote_etag(md5(response.content, usedforsecurity=False).hexdigest())
    return response


def get_conditional_response(request, etag=None, last_modified=None, response=None):
    if response and not (200 <= response.status_code < 300):
        return response

    if_match_etags = parse_etags(request.headers.get("If-Match", ""))
    if_unmodified_since = request.headers.get("If-Unmodified-Since")
    if_unmodified_since = if_unmodified_since and parse_http_date_safe(if_unmodified_since)
    if_none_match_etags = parse_etags(request.headers.get("If-None-Match", ""))
    if_modified_since = request.headers.get("If-Modified-Since")
    if_modified_since = if_modified_since and parse_http_date_safe(if_modified_since)

    if if_match_etags and not _if_match_passes(etag, if_match_etags):
        return _precondition_failed(request)

    if (
        not if_match_etags
        and if_unmodified_since
        and not _if_unmodified_since_passes(last_modified, if_unmodified_since)
    ):
        return _precondition_failed(request)

    if if_none_match_etags and not _if_none_match_passes(etag, if_none_match_etags):
        if request.method in ("GET", "HEAD"):
            return _not_modified(request, response)
        return _precondition_failed(request)

    if (
        not if_none_match_etags
        and if_modified_since
        and not _if_modified_since_passes(last_modified, if_modified_since)
        and request.method in ("GET", "HEAD")
    ):
        return _not_modified(request, response)

    # If-Range is not supported, as in Django.
    return response


def _if_match_passes(target_etag, etags):
    if not target_etag:
        return False
    elif etags == ["*"]:
        return True
    elif target_etag.startswith("W/"):
        return False
    return target_etag in etags


def _if_unmodified_since_passes(last_modified, if_unmodified_since):
    return last_modified and last_modified <= if_unmodified_since


def _if_none_match_passes(target_etag, etags):
    if not target_etag:
        return True
    elif etags == ["*"]:
        return False
    target_etag = target_etag.strip("W/")
    return target_etag not in (etag.strip("W/") for etag in etags)


def _if_modified_since_passes(last_modified, if_modified_since):
    return not last_modified or last_modified > if_modified_since


def _precondition_failed(request):
    log.warning(f"Precondition Failed: {request.path}")
    return HttpResponse(status=412)


def _not_modified(request, response=None):
    new_response = HttpResponse(status=304)
    del new_response["Content-Type"]
    if response:
        for header in (
            "Cache-Control",
            "Content-Location",
            "Date",
            "ETag",
            "Expires",
            "Last-Modified",
            "Vary",
        ):
            if header in response:
                new_response[header] = response[header]
        # Django copies `response.cookies`; here cookies are `Set-Cookie`
        # headers, each kept.
        for name, value in response.items():
            if name == "set-cookie":
                new_response.append("Set-Cookie", value)
    return new_response


def split_header_value(value, sep=","):
    for part in value.split(sep):
        if stripped := part.strip():
            yield stripped


def split_directive_names(value):
    for part in split_header_value(value):
        yield part.split("=", 1)[0].strip().lower()


def parse_etags(etag_str):
    if etag_str.strip() == "*":
        return ["*"]
    etag_matches = (ETAG_MATCH.match(etag) for etag in split_header_value(etag_str))
    return [match[1] for match in etag_matches if match]


def quote_etag(etag_str):
    if ETAG_MATCH.match(etag_str):
        return etag_str
    return '"%s"' % etag_str


def parse_http_date(date):
    for regex in RFC1123_DATE, RFC850_DATE, ASCTIME_DATE:
        m = regex.match(date)
        if m is not None:
            break
    else:
        raise ValueError("%r is not in a valid HTTP date format" % date)
    try:
        year = int(m["year"])
        if year < 100:
            current_year = datetime.now(tz=UTC).year
            current_century = current_year - (current_year % 100)
            if year - (current_year % 100) > 50:
                # A year more than 50 years ahead is in the past century.
                year += current_century - 100
            else:
                year += current_century
        month = MONTHS.index(m["mon"].lower()) + 1
        day = int(m["day"])
        hour = int(m["hour"])
        min = int(m["min"])
        sec = int(m["sec"])
        result = datetime(year, month, day, hour, min, sec, tzinfo=UTC)
        return int(result.timestamp())
    except Exception as exc:
        raise ValueError("%r is not a valid date" % date) from exc


def parse_http_date_safe(date):
    try:
        return parse_http_date(date)
    except Exception:
        pass
