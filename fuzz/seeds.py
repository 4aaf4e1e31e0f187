#!/usr/bin/env python3
"""Writes the curated seed corpora in fuzz/corpus/<target>/.

Run from anywhere: `python3 fuzz/seeds.py`. It (re)writes only the files it
names; regression inputs added by hand (crashes found and fixed) stay.
Formats: see tests/src/fuzz.rs (config, routes, handle) and
guests/fuzz-host/src/lib.rs (host_calls).
"""

import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


# ===== config: shallot.toml text; {guest} is that guest's component =====

QUICKSTART = """\
[server]
listen = "127.0.0.1:8000"

[[middleware]]
name = "request-id"
component = "{request-id}"

[[middleware]]
name = "timing"
component = "{timing}"

[[middleware]]
name = "auth"
component = "{auth}"
config = { protected_views = "items", token = "secret-token" }

[[middleware]]
name = "cors"
component = "{cors}"

[views.hello]
component = "{hello}"

[views.items]
component = "{items}"

[[routes]]
path = "hello"
view = "hello"
name = "hello"

[[routes]]
path = "items/<int:item_id>/"
view = "items"
name = "item"
"""

VIEW = '[views.v]\ncomponent = "{probe-view}"\n'

CONFIGS = {
    "quickstart.toml": QUICKSTART,
    "empty.toml": "",
    "server-full.toml": """\
[server]
listen = "0.0.0.0:8080"
max_header_bytes = 8192
max_body_bytes = 1048576
shutdown_timeout_secs = 5
compile_cache = "cache"
admin = "127.0.0.1:9901"
backlog = 128
header_read_timeout_secs = 10
send_timeout_secs = 10
trusted_proxies = ["10.0.0.0/8", "::1"]
""",
    "server-bad-listen.toml": '[server]\nlisten = "localhost"\n',
    "server-bad-admin-ipv6.toml": '[server]\nadmin = "[::1:9901"\n',
    "unknown-field.toml": '[server]\nlisten = "127.0.0.1:8000"\nlistne = "x"\n',
    "middleware-no-name.toml": '[[middleware]]\ncomponent = "{timing}"\n',
    "middleware-duplicate.toml": '[[middleware]]\nname = "a"\ncomponent = "{timing}"\n'
    '[[middleware]]\nname = "a"\ncomponent = "{cors}"\n',
    "middleware-bad-name.toml": '[[middleware]]\nname = "Request-ID"\ncomponent = "{request-id}"\n',
    "component-missing.toml": '[views.x]\ncomponent = "./missing.wasm"\n',
    "view-with-name.toml": '[views.x]\nname = "x"\ncomponent = "{hello}"\n',
    "route-path-and-regex.toml": VIEW + '[[routes]]\npath = "a"\nregex = "^a$"\nview = "v"\n',
    "route-unknown-view.toml": VIEW + '[[routes]]\npath = "a"\nview = "nope"\n',
    "route-bad-converter.toml": VIEW + '[[routes]]\npath = "a/<foo:x>/"\nview = "v"\n',
    "route-include.toml": VIEW
    + """\
[[routes]]
regex = '^api/(?P<version>v[0-9]+)/'
namespace = "api"
include = [
    { path = "things/<uuid:id>/", view = "v", name = "thing" },
    { path = "n/<int:n>", view = "v", name = "n" },
    { path = "bad/<x", view = "v" },
]
""",
    "route-bad-regex.toml": VIEW + "[[routes]]\nregex = '^(?=a)b\\Z'\nview = \"v\"\n",
    "route-namespace-on-view.toml": VIEW + '[[routes]]\npath = "a"\nview = "v"\nnamespace = "n"\n',
    "limits.toml": """\
[limits]
memory_mib = 32
cpu_ms = 50
fuel = 1000000
instances = 10
tables = 5
table_elements = 1000
memories = 2
output_kib = 8
max_stack_kib = 256
request_timeout_ms = 5000
concurrent_instances = 100
""",
    "limits-stack-too-small.toml": "[limits]\nmax_stack_kib = 16\n",
    "limits-overflow.toml": "[limits]\nmemory_mib = 17592186044416\n",
    "limits-negative.toml": "[limits]\ncpu_ms = -1\n",
    "limits-global-in-component.toml": '[views.x]\ncomponent = "{hello}"\nlimits = { max_stack_kib = 128 }\n',
    "reuse.toml": '[views.x]\ncomponent = "{hello}"\ninstance_policy = "reuse"\n'
    "reuse = { max_requests = 10, idle_timeout_secs = 5, max_idle = 2 }\n",
    "reuse-without-policy.toml": '[views.x]\ncomponent = "{hello}"\nreuse = { max_requests = 0 }\n',
    "policy-unknown.toml": '[views.x]\ncomponent = "{hello}"\ninstance_policy = "pooled"\n',
    "config-values.toml": '[views.x]\ncomponent = "{hello}"\n'
    'config = { s = "é", i = -3, f = 1.5e3, b = true, d = 1979-05-27T07:32:00Z, a = [1] }\n',
    "grants.toml": '[views.x]\ncomponent = "{hello}"\nenv = ["PATH"]\ndirs = { "/static" = "." }\n'
    'allowed_outbound_hosts = ["https://*.example.com", "http://127.0.0.1:*", "*://[::1]:80"]\n'
    'key_value_stores = ["sessions"]\n',
    "grants-bad.toml": '[views.x]\ncomponent = "{hello}"\ndirs = { "static" = "/nonexistent" }\n'
    'allowed_outbound_hosts = ["ftp://x", "http://a/b", "*.com"]\n',
    "key-value.toml": '[key_value]\npath = "kv/data.redb"\nmax_value_kib = 64\nstore_quota_mib = 1\n',
    "syntax-unterminated.toml": '[server]\nlisten = "127.0.0.1:8000\n',
    "syntax-multibyte.toml": '[views.é]\ncomponent = "{hello}"\n[[routes]]\npath = "ü"\nview = "é"\n# ünïcödé\n= "x"\n',
    "syntax-duplicate-table.toml": "[server]\n[server]\n",
    "crlf.toml": QUICKSTART.replace("\n", "\r\n"),
}

for name, text in CONFIGS.items():
    write("config", name, text)

# ===== routes: p/r endpoints, P/R includes, indentation nests, >PATH =====

ROUTES = {
    "quickstart.txt": "p hello\thello\np items/<int:item_id>/\titem\np boom\tboom\n"
    ">/hello\n>/items/42/\n>/items/007/\n>/items/x/\n>/boom\n>/nope\n",
    "converters.txt": "p i/<int:n>\np s/<str:s>/\np g/<slug:g>\np u/<uuid:u>/\np f/<path:rest>\n"
    "p d/<x>/<int:y>\n"
    ">/i/0\n>/i/00012\n>/s/a%2Fb/\n>/g/a-b_C9\n>/u/12345678-1234-1234-1234-123456789abc/\n"
    ">/u/12345678-1234-1234-1234-123456789ABC/\n>/f/a/b/c.txt\n>/f/\n>/d/%E2%82%AC/7\n",
    "percent.txt": "p caf\u00e9/\np a b\np %41\np <path:p>\n"
    ">/caf%C3%A9/\n>/caf%c3%a9/\n>/a%20b\n>/%41\n>/%2541\n>/%\n>/%zz\n>/%ff%fe\n>/%E2%82\n>\n>//\n",
    "regex.txt": "r ^(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/$\tarchive\n"
    "r ^(\\d+)/(\\w+)?$\nr ^a|ab$\nr (?i)^CaSe\\Z\nr (?x) ^ spaced # comment\n"
    ">/2024/05/\n>/12/\n>/12/abc\n>/ab\n>/case\n>/spaced\n",
    "include.txt": "R ^api/(?P<version>v[0-9]+)/\tapi\n p things/<uuid:id>/\tthing\n"
    " P nested/\tinner\n  p <int:n>\tn\n  r ^(?P<x>x+)$\n P \n  p empty-prefix\n"
    "P legacy/\n r ^(\\d+)/$\n"
    ">/api/v1/things/12345678-1234-1234-1234-123456789abc/\n>/api/v2/nested/7\n"
    ">/api/v3/nested/xxx\n>/api/v1/empty-prefix\n>/legacy/42/\n",
    "include-regex-args.txt": "R ^(\\w+)/\n r ^(\\d+)/$\n R ^(?P<k>k)/\n  r ^(\\d)$\n"
    ">/a/1/\n>/a/k/5\n",
    "err-converter.txt": "p a/<foo:x>/\n",
    "err-whitespace.txt": "p a/<int: x>/\n",
    "err-identifier.txt": "p a/<int:1x>/\np b/<:x>\n",
    "err-duplicate.txt": "p <a>/<int:a>\n",
    "err-bracket-open.txt": "p a/<int:x\tn\n",
    "err-bracket-close.txt": "p a>/<b>\n",
    "err-regex.txt": "r ^(?=a)b\n",
    "err-regex-backslash.txt": "r ^a\\\n",
    "err-nested.txt": "P a/\n P b/\n  p <foo:x>\n",
    "unicode.txt": "p \u00fc/<str:\u00e9t\u00e9>/\np \u65e5\u672c/<slug:s>\n"
    ">/%C3%BC/x/\n>/\u00fc/\u00e9/\n>/%E6%97%A5%E6%9C%AC/a-b\n",
    "empty.txt": "",
    "literal-include-prefix.txt": "P a\n p b\np ab\n>/ab\n",
}

for name, text in ROUTES.items():
    write("routes", name, text)

# ===== handle: raw HTTP/1.1 requests to the quickstart (+ probe routes) =====

def http(head, body=b""):
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


UUID = "12345678-1234-1234-1234-123456789abc"
HANDLE = {
    "hello.http": http("GET /hello HTTP/1.1\nHost: localhost\n"),
    "item-authorized.http": http(
        "GET /items/42/ HTTP/1.1\nHost: localhost\nAuthorization: Bearer secret-token\n"
    ),
    "item-unauthorized.http": http("GET /items/42/ HTTP/1.1\nHost: localhost\n"),
    "item-wrong-token.http": http("GET /items/007/ HTTP/1.1\nAuthorization: Bearer nope\n"),
    "boom.http": http("GET /boom HTTP/1.1\nHost: localhost\nAccept: application/json\n"),
    "preflight.http": http(
        "OPTIONS /items/42/ HTTP/1.1\nOrigin: http://example.com\n"
        "Access-Control-Request-Method: GET\n"
    ),
    "post-body.http": http(
        "POST /hello HTTP/1.1\nContent-Type: application/json\nContent-Length: 13\n",
        b'{"a": [1, 2]}',
    ),
    "not-found.http": http("GET /nope HTTP/1.1\n"),
    "item-not-int.http": http("GET /items/abc/ HTTP/1.1\n"),
    "slug.http": http("GET /s/my-slug/name%20x HTTP/1.1\n"),
    "api-uuid.http": http(f"GET /api/v1/things/{UUID}/ HTTP/1.1\n"),
    "api-path.http": http("GET /api/v2/files/a/b/c.txt?download=1 HTTP/1.1\n"),
    "api-regex.http": http("GET /api/v10/12/abc HTTP/1.1\n"),
    "api-int.http": http("DELETE /api/v1/n/007 HTTP/1.1\n"),
    "request-id-given.http": http("GET /hello HTTP/1.1\nX-Request-Id: abc-123\n"),
    "request-id-twice.http": http("GET /hello HTTP/1.1\nX-Request-Id: a\nX-Request-Id: b\n"),
    "absolute-form.http": http("GET https://example.com:8443/hello?x=1 HTTP/1.1\nHost: other\n"),
    "query.http": http("GET /hello?x=1&y=%ff&z HTTP/1.1\n"),
    "broken-utf8-path.http": http("GET /%ff%fe/%C3 HTTP/1.1\n"),
    "head.http": http("HEAD /hello HTTP/1.1\n"),
    "custom-method.http": http("PURGE /items/1/ HTTP/1.1\n"),
    "headers.http": http(
        "GET /s/a/b HTTP/1.1\nCookie: a=1\nCookie: b=2\nAccept-Language: en\n"
        "Connection: keep-alive\nUpgrade: h2c\nTE: trailers\n"
    ),
    "latin1-header.http": b"GET /hello HTTP/1.1\r\nX-Name: caf\xe9\r\nX-Request-Id: \xff\r\n\r\n",
    "lf-only.http": b"GET /items/1/ HTTP/1.1\nAuthorization: Bearer secret-token\n\nbody",
}

for name, data in HANDLE.items():
    write("handle", name, data)

# ===== host_calls: scripts for the fuzz-host view =====


def s(text):
    data = text.encode() if isinstance(text, str) else text
    if len(data) >= 255:
        return bytes([255]) + struct.pack("<H", len(data)) + data
    return bytes([len(data)]) + data


def u16(n):
    return struct.pack("<H", n)


def u64(n):
    return struct.pack("<Q", n)


def i64(n):
    return struct.pack("<q", n)


def ttl(ms=None):
    return b"\x00" if ms is None else b"\x01" + u64(ms)


def op(code, *args):
    return bytes([code]) + b"".join(args)


NEW, NEW_OK, SET_STATUS, SET_HEADER, APPEND_HEADER, REMOVE_HEADER = 0, 1, 2, 3, 4, 5
READ_RESPONSE, SET_BODY, READ_REQUEST, ATTRIBUTE, SET_ATTRIBUTE, CONFIG = 6, 7, 8, 9, 10, 11
LOG, KV_OPEN, KV_GET, KV_SET, KV_INCREMENT, KV_DELETE, KV_TTL = 12, 13, 14, 15, 16, 17, 18
DROP_RESPONSE, DROP_STORE, PRINT, SEND, RETURN, RAISE = 19, 20, 21, 22, 23, 24

R0 = b"\x00"
HOST_CALLS = {
    "headers": op(NEW_OK, u16(0))
    + op(SET_HEADER, R0, s("X-A"), s("1"))
    + op(APPEND_HEADER, R0, s("x-a"), s("2"))
    + op(SET_HEADER, R0, s("Bad Name"), s("x"))
    + op(SET_HEADER, R0, s("X-B"), s("a\r\nInjected: 1"))
    + op(SET_HEADER, R0, s(""), s("empty name"))
    + op(APPEND_HEADER, R0, s("Content-Length"), s("999"))
    + op(APPEND_HEADER, R0, s("Transfer-Encoding"), s("chunked"))
    + op(REMOVE_HEADER, R0, s("x-a"))
    + op(READ_RESPONSE, R0, s("x-a"))
    + op(RETURN, R0),
    "status": op(NEW_OK, u16(0))
    + op(SET_STATUS, R0, u16(199))
    + op(SET_STATUS, R0, u16(600))
    + op(SET_STATUS, R0, u16(0xFFFF))
    + op(SET_STATUS, R0, u16(418))
    + op(READ_RESPONSE, R0, s(""))
    + op(RETURN, R0),
    "new-invalid-status": op(NEW, u16(99)),
    "new-status-600": op(NEW, u16(600)),
    "new-status-599": op(NEW, u16(599)) + op(RETURN, R0),
    "body": op(NEW_OK, u16(0))
    + op(SET_BODY, R0, s(b"\x00\xff binary \xc3"))
    + op(SET_BODY, R0, s(b"x" * 1000))
    + op(READ_RESPONSE, R0, s("content-type"))
    + op(RETURN, R0),
    "request": op(READ_REQUEST, s("x-multi"))
    + op(READ_REQUEST, s("X-LATIN1"))
    + op(READ_REQUEST, s("bad header name\n"))
    + op(READ_REQUEST, s("")),
    "attributes": op(ATTRIBUTE, s("request_id"))
    + op(SET_ATTRIBUTE, s("user"), s("alice"))
    + op(SET_ATTRIBUTE, s("user"), s("bob"))
    + op(SET_ATTRIBUTE, s(""), s("\u00e9\x00"))
    + op(ATTRIBUTE, s("user"))
    + op(SET_ATTRIBUTE, s("request_id"), s("\r\n")),
    "config": op(CONFIG, s("greeting"))
    + op(CONFIG, s("number"))
    + op(CONFIG, s("missing"))
    + op(CONFIG, s("")),
    "log": op(LOG, b"\x00", s("debug"))
    + op(LOG, b"\x01", s("info \x1b[31m red"))
    + op(LOG, b"\x02", s("warn\nmulti\nline"))
    + op(LOG, b"\x03", s("x" * 300)),
    "kv": op(KV_OPEN, s("fuzz"))
    + op(KV_SET, R0, s("k"), s("v"), ttl())
    + op(KV_GET, R0, s("k"))
    + op(KV_SET, R0, s("t"), s("v"), ttl(60000))
    + op(KV_TTL, R0, s("t"))
    + op(KV_TTL, R0, s("k"))
    + op(KV_DELETE, R0, s("k"))
    + op(KV_DELETE, R0, s("k"))
    + op(KV_GET, R0, s("k")),
    "kv-increment": op(KV_OPEN, s("fuzz"))
    + op(KV_INCREMENT, R0, s("n"), i64(1), ttl(1000))
    + op(KV_INCREMENT, R0, s("n"), i64(-5), ttl())
    + op(KV_SET, R0, s("text"), s("abc"), ttl())
    + op(KV_INCREMENT, R0, s("text"), i64(1), ttl())
    + op(KV_SET, R0, s("big"), s("9223372036854775807"), ttl())
    + op(KV_INCREMENT, R0, s("big"), i64(1), ttl())
    + op(KV_INCREMENT, R0, s("min"), i64(-(2**63)), ttl())
    + op(KV_INCREMENT, R0, s("min"), i64(-1), ttl()),
    "kv-ttl-extremes": op(KV_OPEN, s("fuzz"))
    + op(KV_SET, R0, s("max"), s("v"), ttl(2**64 - 1))
    + op(KV_TTL, R0, s("max"))
    + op(KV_SET, R0, s("zero"), s("v"), ttl(0))
    + op(KV_GET, R0, s("zero"))
    + op(KV_INCREMENT, R0, s("imax"), i64(1), ttl(2**63))
    + op(KV_TTL, R0, s("imax")),
    "kv-stores": op(KV_OPEN, s("fuzz"))
    + op(KV_OPEN, s(""))
    + op(KV_OPEN, s("not-granted"))
    + op(KV_SET, b"\x01", s(""), s(""), ttl())
    + op(KV_GET, b"\x00", s(""))
    + op(DROP_STORE, b"\x00")
    + op(KV_GET, b"\x05", s("")),
    "kv-big-value": op(KV_OPEN, s("fuzz"))
    + op(KV_SET, R0, s("big"), s(b"\xab" * 3000), ttl())
    + op(KV_GET, R0, s("big")),
    "print": op(PRINT, b"\x00", s("to stdout\n"))
    + op(PRINT, b"\x01", s("to stderr, no newline"))
    + op(PRINT, b"\x00", s(b"\xff\xfe invalid utf-8\n"))
    + op(PRINT, b"\x00", s(b"y" * 2000)),
    "send": op(SEND, s("GET"), s("http://127.0.0.1:1/x"), b"\x01", s("x-a"), s("1"), s(""))
    + op(SEND, s("POST"), s("http://example.com/"), b"\x00", s("body"))
    + op(SEND, s("GET"), s("not a url"), b"\x00", s(""))
    + op(SEND, s("B@D METHOD"), s("http://127.0.0.1:1"), b"\x01", s("bad\nname"), s("v"), s("")),
    "drop": op(NEW_OK, u16(0))
    + op(NEW_OK, u16(1))
    + op(DROP_RESPONSE, R0)
    + op(READ_RESPONSE, R0, s(""))
    + op(DROP_RESPONSE, R0)
    + op(RETURN, R0),
    "raise-kinds": op(RAISE, b"\x05", s("trap kind from a guest")),
    "raise-unavailable": op(RAISE, b"\x0a", s("busy")),
    "raise-permission": op(RAISE, b"\x01", s("no \u00e9")),
    "many-headers": op(NEW_OK, u16(0))
    + b"".join(op(APPEND_HEADER, R0, s("x-many"), s(str(i))) for i in range(200))
    + op(RETURN, R0),
    "truncated": op(KV_OPEN) + op(KV_SET, R0, s("k")),
}

for name, data in HOST_CALLS.items():
    write("host_calls", name, data)
