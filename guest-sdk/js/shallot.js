// Shallot's JavaScript SDK: middleware and views that read like Django's.
//
// A middleware is the default-exported class of its file, with any of the
// hooks processRequest(request), processView(request, viewFunc, viewArgs,
// viewKwargs), processException(request, exception),
// processTemplateResponse(request, response) and
// processResponse(request, response); only those it defines are exported.
// A view is a default-exported function (request, args, kwargs): args is an
// array of the URL's unnamed groups, kwargs an object of its named ones;
// processView gets the same two, in the same order, before the view runs
// (Django's process_view(request, view_func, view_args, view_kwargs) and
// view(request, *args, **kwargs)).
//
// The module is evaluated and the middleware object made once, when the
// component is built, and each instance starts from that state; the object
// (like anything the module keeps) serves every request its instance handles.
// Under the default instance_policy = "per-request" an instance serves one
// request, so nothing survives to the next. Under "reuse" a warm instance
// serves a series of them, one at a time: what a hook leaves in the object or
// the module is there for the next request (maybe another user's), so set
// per-request state in processRequest and keep nothing one request must not
// see. It is a cache at best: an instance is dropped when it traps or hits a
// limit, after max_requests, or when idle for idle_timeout_secs, and
// concurrent requests each have an instance of their own.
//
// A context processor is an exported function contextProcessor(request)
// returning a plain object of JSON values, merged over every rendered
// template's context (Django's context_processors). Template filters are
// the functions of an exported object `filters` (Django's
// @register.filter): `{{ text|words(3) }}` calls filters.words(text, 3),
// the value and arguments decoded from JSON; a filter returns a JSON value,
// or markSafe(html) for markup the host does not escape again (escape(s)
// escapes as the host does). Filters get no request and no capability;
// an exception in either fails the rendering. A file is one middleware,
// view, context processor or filters object.
//
// Build with: node guest-sdk/js/shallot-build.mjs app.js -o app.wasm

import { Response as WitResponse } from 'shallot:http/types@0.1.0';
import { log as hostLog } from 'shallot:http/log@0.1.0';
import { get as configGet, getAll as configGetAll } from 'shallot:http/config@0.1.0';
import { reverse as hostReverse, resolve as hostResolve } from 'shallot:http/urls@0.1.0';

/** An error with a WIT error-kind; raising one answers with its status. */
export class ShallotError extends Error {
  constructor(message = '', kind = 'internal') {
    super(message);
    this.kind = kind;
  }
}
export class Http404 extends ShallotError {
  constructor(message = '') { super(message, 'not-found'); }
}
export class PermissionDenied extends ShallotError {
  constructor(message = '') { super(message, 'permission-denied'); }
}
export class BadRequest extends ShallotError {
  constructor(message = '') { super(message, 'bad-request'); }
}
export class SuspiciousOperation extends ShallotError {
  constructor(message = '') { super(message, 'suspicious-operation'); }
}

function hostCall(fn) {
  try {
    return fn();
  } catch (e) {
    const err = e && e.payload ? e.payload : e;
    throw new ShallotError(err && err.message ? err.message : String(err), 'internal');
  }
}

/** One `read-body` call; its error raised with its kind, as Django would. */
function readChunk(handle, max) {
  try {
    return handle.readBody(max);
  } catch (e) {
    throw exceptionOf(e && e.payload ? e.payload : { kind: 'internal', message: String(e) });
  }
}

/** request.GET: get(key) is the last value, like Django's QueryDict. */
class QueryDict {
  constructor(query) {
    this.params = new URLSearchParams(query);
  }
  get(key, fallback = null) {
    const all = this.params.getAll(key);
    return all.length ? all[all.length - 1] : fallback;
  }
  getlist(key) {
    return this.params.getAll(key);
  }
  has(key) {
    return this.params.has(key);
  }
}

/** Case-insensitive, read-only headers of the request. */
class RequestHeaders {
  constructor(handle) {
    this.handle = handle;
  }
  get(name) {
    return this.handle.header(name) ?? null;
  }
  has(name) {
    return this.handle.header(name) !== undefined;
  }
  entries() {
    return this.handle.headers();
  }
}

/**
 * The request, lent to this hook call. request.set(name, value) and
 * request.get(name) are request attributes on the host, which later
 * layers in any language see. Keep no reference after the hook returns.
 */
export class HttpRequest {
  constructor(handle) {
    this.handle = handle;
  }
  get method() { return this.handle.method(); }
  get path() { return this.handle.path(); }
  get headers() { return new RequestHeaders(this.handle); }
  get GET() { return new QueryDict(this.handle.query()); }
  get body() { return this.handle.body(); }
  /** Django's request.read(size): the next `size` bytes of the body (fewer
   * only at its end), or all the rest without `size`; empty once all is
   * read. A body past the server's max_body_bytes can only be read so. */
  read(size = -1) {
    const parts = [];
    let left = size < 0 ? Infinity : size;
    while (left > 0) {
      const chunk = readChunk(this.handle, Math.min(left, 1 << 20));
      if (chunk.length === 0) break;
      parts.push(chunk);
      left -= chunk.length;
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return all;
  }
  get scheme() { return this.handle.scheme(); }
  get clientAddr() { return this.handle.clientAddr(); }
  get(name) { return this.handle.attribute(name) ?? null; }
  set(name, value) { this.handle.setAttribute(name, String(value)); }
}

/** A response: response.set("Header", value), response.statusCode = 404. */
export class HttpResponse {
  constructor(content = '', { status = 200, contentType = 'text/html; charset=utf-8', headers = {} } = {}) {
    this.handle = new WitResponse(status);
    if (contentType !== null) this.set('Content-Type', contentType);
    for (const [name, value] of Object.entries(headers)) this.set(name, value);
    this.content = content;
  }
  static wrap(handle) {
    const resp = Object.create(this.prototype);
    resp.handle = handle;
    return resp;
  }
  // Hands what is kept on this side to the host when user code returns it.
  flush() {}
  get statusCode() { return this.handle.status(); }
  set statusCode(status) { hostCall(() => this.handle.setStatus(status)); }
  get streaming() { return this.handle.isStreaming(); }
  get content() { return this.handle.body(); }
  set content(value) {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    this.handle.setBody(bytes);
  }
  get(name) { return this.handle.header(name) ?? null; }
  set(name, value) { hostCall(() => this.handle.setHeader(name, String(value))); }
  append(name, value) { hostCall(() => this.handle.appendHeader(name, String(value))); }
  delete(name) { this.handle.removeHeader(name); }
  has(name) { return this.handle.hasHeader(name); }
  entries() { return this.handle.headers(); }
}

const sources = new Map();
let lastSource = 0;

/** Django's StreamingHttpResponse: the body is an iterable of strings or
 * Uint8Arrays, pulled by the host one piece at a time after every
 * processResponse has run. Middleware may change its status and headers;
 * reading or setting `content` throws, as in Django. */
export class StreamingHttpResponse extends HttpResponse {
  constructor(streamingContent = [], options = {}) {
    super('', options);
    lastSource += 1;
    sources.set(lastSource, streamingContent[Symbol.iterator]());
    this.handle.streamFrom(lastSource);
  }
  get streaming() { return true; }
}

/** body-source.next-chunk: the next non-empty piece, or an empty one at
 * the end (the iterator is dropped then). */
function nextChunk(source) {
  const chunks = sources.get(source);
  if (chunks === undefined) throw new Error(`no streaming body ${source}`);
  for (;;) {
    const { value, done } = chunks.next();
    if (done) {
      sources.delete(source);
      return new Uint8Array(0);
    }
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (bytes.length > 0) return bytes;
  }
}

/** JSON.stringify with Python's separators, so bodies match Django's. */
export class JsonResponse extends HttpResponse {
  constructor(data, { status = 200, ...rest } = {}) {
    super(pyJson(data), { status, contentType: 'application/json', ...rest });
  }
}

/**
 * Django's TemplateResponse: the host renders it after every
 * processTemplateResponse has run, with the first of `template` (a name or
 * an array of names) that exists and `context` (a plain object of JSON
 * values), plus the globals request, url, static, csrf_token, csrf_input.
 * Until then templateName and contextData may be changed; contextData is
 * an object, changed in place, sent back to the host when the hook or
 * view returns. templateName reads as a string when there is one
 * candidate, else as an array. Setting content renders it by hand: it is
 * then a plain response.
 */
export class TemplateResponse extends HttpResponse {
  constructor(template, context = {}, options = {}) {
    super('', options);
    this.contextCache = context ?? {};
    const names = templateNames(template);
    const json = contextJson(this.contextCache);
    hostCall(() => this.handle.setTemplate(names, json));
  }
  get isRendered() { return this.handle.templateNames().length === 0; }
  get templateName() {
    const names = this.handle.templateNames();
    return names.length === 1 ? names[0] : names;
  }
  set templateName(template) {
    // setTemplate replaces both, so the current context goes along.
    const names = templateNames(template);
    const json = contextJson(this.contextData);
    hostCall(() => this.handle.setTemplate(names, json));
  }
  get contextData() {
    // Read from the host once; wrapped responses start without it.
    if (this.contextCache === undefined) {
      const text = this.handle.context();
      this.contextCache = text === undefined ? {} : JSON.parse(text);
    }
    return this.contextCache;
  }
  set contextData(context) {
    contextJson(context); // refuse it now rather than when the hook returns
    this.contextCache = context;
  }
  flush() {
    // A response rendered by hand (content set) has no context left.
    if (this.contextCache !== undefined && !this.isRendered) {
      const json = contextJson(this.contextCache);
      hostCall(() => this.handle.setContext(json));
    }
  }
}

function templateNames(template) {
  const names = typeof template === 'string' ? [template] : Array.from(template ?? []);
  if (!names.every((n) => typeof n === 'string')) throw new TypeError('a template name must be a string or an array of strings');
  return names;
}

/** Where `value` holds something JSON.stringify would drop or change
 * (undefined, a Map, NaN, a Date...), and what (`context.tags is a Map`);
 * null when it is all JSON. */
function jsonProblem(value, path) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || value instanceof String) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [k, v] of Object.entries(value)) {
      const problem = jsonProblem(v, `${path}.${k}`);
      if (problem) return problem;
    }
    return null;
  }
  const what = typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}`
    : typeof value === 'number' || value === undefined ? String(value) : `a ${typeof value}`;
  return `${path} is ${what}`;
}

function isPlainObject(value) {
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  return !Array.isArray(value) && (proto === Object.prototype || proto === null);
}

/** JSON.stringify, but a value it would drop or change (undefined, a Map,
 * NaN, a Date...) is a TypeError, as Python's json.dumps refuses a set. */
function contextJson(context) {
  if (!isPlainObject(context)) throw new TypeError('a template context must be a plain object');
  const problem = jsonProblem(context, 'context');
  if (problem) throw new TypeError(`the template context is not JSON-serializable: ${problem}`);
  return JSON.stringify(context);
}

function pyJson(value) {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${pyJsonString(k)}: ${pyJson(v)}`).join(', ')}}`;
  }
  return typeof value === 'string' ? pyJsonString(value) : JSON.stringify(value);
}

function pyJsonString(s) {
  // json.dumps escapes every non-ASCII character.
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Adds headers to Vary like django.utils.cache.patch_vary_headers. */
export function patchVaryHeaders(response, newHeaders) {
  const vary = response.has('Vary') ? response.get('Vary').split(/\s*,\s*/) : [];
  const existing = new Set(vary.map((h) => h.toLowerCase()));
  for (const h of newHeaders) if (!existing.has(h.toLowerCase())) vary.push(h);
  response.set('Vary', vary.includes('*') ? '*' : vary.join(', '));
}

/**
 * Django's SafeString: a string that is markup, not to be escaped again.
 * A filter returning one (markSafe) gives the template markup, printed as
 * is; it reads like a string (`${safe}`, String(safe), safe.length).
 */
export class SafeString extends String {}

/** Django's mark_safe: `s` as a SafeString. */
export function markSafe(s) {
  return s instanceof SafeString ? s : new SafeString(String(s));
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** Django's escape: `s` (made a string) with & < > " ' escaped, as a
 * SafeString, with the entities of the host's autoescaping (MarkupSafe's).
 * Like Django's, it escapes even a SafeString. */
export function escape(s) {
  return new SafeString(String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]));
}

export const log = {
  debug: (m) => hostLog('debug', String(m)),
  info: (m) => hostLog('info', String(m)),
  warning: (m) => hostLog('warn', String(m)),
  error: (m) => hostLog('error', String(m)),
};

/** Django's NoReverseMatch: no route of that name fits the arguments. */
export class NoReverseMatch extends Error {}

/**
 * Django's reverse() over the pipeline's URLconf:
 * reverse('api:item-detail', { kwargs: { pk: 42 } }) is '/api/items/42/'.
 */
export function reverse(name, { args = [], kwargs = {} } = {}) {
  const keywords = Object.entries(kwargs);
  if (args.length && keywords.length) throw new TypeError("Don't mix *args and **kwargs in call to reverse()!");
  try {
    return hostReverse(name, args.map(String), keywords.map(([k, v]) => [k, String(v)]));
  } catch (e) {
    throw new NoReverseMatch(e && e.payload ? e.payload.message : String(e));
  }
}

/** Django's resolve() against the request's URLconf: { viewName, urlName,
 * args, kwargs }, or an Http404 (Django's Resolver404). */
export function resolve(path) {
  const info = hostResolve(path);
  if (info === undefined || info === null) throw new Http404(`${path} does not resolve`);
  return { viewName: info.viewName, urlName: info.routeName ?? null, args: info.args, kwargs: Object.fromEntries(info.kwargs) };
}

/** Django's is_valid_path(): whether `path` resolves. */
export function isValidPath(path) {
  const info = hostResolve(path);
  return info !== undefined && info !== null;
}

export const config = {
  get: (key, fallback = null) => configGet(key) ?? fallback,
  all: () => Object.fromEntries(configGetAll()),
};

// ===== glue: used by the module shallot-build.mjs generates =====

function witError(e) {
  if (e instanceof ShallotError) return { kind: e.kind, message: e.message };
  return { kind: 'internal', message: e && e.message !== undefined ? e.message : String(e) };
}

function exceptionOf(err) {
  const classes = {
    'not-found': Http404,
    'permission-denied': PermissionDenied,
    'bad-request': BadRequest,
    'suspicious-operation': SuspiciousOperation,
  };
  const Cls = classes[err.kind];
  return Cls ? new Cls(err.message) : new ShallotError(err.message, err.kind);
}

/** Runs user code; any exception becomes the WIT error (a response). */
function guarded(fn) {
  let out;
  try {
    out = fn();
  } catch (e) {
    throw { payload: witError(e) };
  }
  if (out !== undefined && out !== null && !(out instanceof HttpResponse)) {
    throw { payload: witError(new TypeError('a hook must return an HttpResponse or nothing')) };
  }
  if (!out) return undefined;
  try {
    out.flush(); // e.g. contextData changed in place
  } catch (e) {
    throw { payload: witError(e) };
  }
  return out.handle;
}

function viewFunc(info) {
  return { name: info.viewName, routeName: info.routeName ?? null };
}

export function exportsFor(target) {
  return {
    processRequest: { processRequest: (req) => guarded(() => target.processRequest(new HttpRequest(req))) },
    processView: {
      processView: (req, info) =>
        guarded(() => target.processView(new HttpRequest(req), viewFunc(info), info.args, Object.fromEntries(info.kwargs))),
    },
    processException: {
      processException: (req, err) => guarded(() => target.processException(new HttpRequest(req), exceptionOf(err))),
    },
    processTemplateResponse: {
      processTemplateResponse: (req, resp) => {
        const out = guarded(() => target.processTemplateResponse(new HttpRequest(req), TemplateResponse.wrap(resp)));
        if (out === undefined) throw { payload: witError(new TypeError('processTemplateResponse returned nothing')) };
        return out;
      },
    },
    processResponse: {
      processResponse: (req, resp) => {
        const out = guarded(() => target.processResponse(new HttpRequest(req), HttpResponse.wrap(resp)));
        if (out === undefined) throw { payload: witError(new TypeError('processResponse returned nothing')) };
        return out;
      },
    },
  };
}

export function viewExport(fn) {
  return {
    handle: (req, info) => {
      const out = guarded(() => fn(new HttpRequest(req), info.args, Object.fromEntries(info.kwargs)));
      if (out === undefined) throw { payload: witError(new TypeError('the view returned nothing')) };
      return out;
    },
  };
}

/** The body-source export every view has, for its StreamingHttpResponses. */
export const bodySourceExport = {
  nextChunk: (source) => {
    try {
      return nextChunk(source);
    } catch (e) {
      throw { payload: witError(e) };
    }
  },
};

/** The context-processor export for `export function contextProcessor(request)`. */
export function contextProcessorExport(fn) {
  return {
    context: (req) => {
      try {
        const values = fn(new HttpRequest(req));
        if (!isPlainObject(values)) {
          const what = values === null || values === undefined ? String(values) : `a ${values.constructor?.name ?? typeof values}`;
          throw new TypeError(`contextProcessor must return a plain object, not ${what}`);
        }
        const problem = jsonProblem(values, 'values');
        if (problem) throw new TypeError(`contextProcessor returned a value JSON cannot carry: ${problem}`);
        return JSON.stringify(values);
      } catch (e) {
        throw { payload: witError(e) };
      }
    },
  };
}

const FILTER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The template-filters export for `export const filters = { name(value, ...args) {...} }`;
 * made when the module is evaluated, at build time, so a bad name fails the build. */
export function filtersExport(filters) {
  if (!isPlainObject(filters)) throw new TypeError('`filters` must be a plain object of functions');
  const names = Object.keys(filters);
  if (names.length === 0) throw new TypeError('`filters` has no filter');
  for (const name of names) {
    if (!FILTER_NAME.test(name)) {
      throw new TypeError(`${JSON.stringify(name)} is not a filter name (letters, digits and '_', not starting with a digit)`);
    }
    if (typeof filters[name] !== 'function') throw new TypeError(`filters.${name} is not a function`);
  }
  return {
    names: () => names,
    apply: (name, value, args) => {
      try {
        if (!names.includes(name)) throw new ShallotError(`no filter ${name}`);
        const out = filters[name](JSON.parse(value), ...args.map((a) => JSON.parse(a)));
        if (out instanceof SafeString) return { json: JSON.stringify(String(out)), safe: true };
        const problem = jsonProblem(out, 'result');
        if (problem) throw new TypeError(`the filter ${name} returned a value JSON cannot carry: ${problem}`);
        return { json: JSON.stringify(out), safe: false };
      } catch (e) {
        throw { payload: witError(e) };
      }
    },
  };
}
