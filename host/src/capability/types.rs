//! `shallot:http/types`: what a guest can do with the handles of the
//! request and the responses it is lent. Every accessor copies just the
//! piece asked for, so a middleware that reads one header never pays for the
//! body; what a guest hands the host (headers, attributes, bodies) is held
//! against its memory limit, and what is copied either way is charged to
//! its CPU budget.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::bindings::types::{self, Error, ErrorKind};
use crate::error::RaisedByHost;
use crate::limits::Meter;
use crate::resources::{PendingTemplate, RequestResource, ResponseResource, StreamSource};

/// What the `types` host functions reach: the store's table and meter.
pub(crate) struct TypesView<'a> {
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) meter: &'a mut Meter,
}

struct Types;

impl HasData for Types {
    type Data<'a> = TypesView<'a>;
}

/// Links `shallot:http/types` for stores whose data gives a [`TypesView`].
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> TypesView<'_>,
) -> wasmtime::Result<()> {
    types::add_to_linker::<T, Types>(linker, view)
}

/// Django's `HttpResponse` accepts 100..=599; a 1xx cannot be the final
/// response of an HTTP/1.1 exchange (101 would even switch protocols), so
/// Shallot accepts 200..=599 only.
pub(crate) fn valid_status(status: u16) -> bool {
    (200..=599).contains(&status)
}

/// Django's `AttributeError` for a streaming response's `content`,
/// raised in the guest's place.
fn no_content(message: &str) -> wasmtime::Error {
    wasmtime::Error::new(RaisedByHost(internal(message)))
}

fn internal(message: impl Into<String>) -> Error {
    Error {
        kind: ErrorKind::Internal,
        message: message.into(),
    }
}

/// A template context: a JSON object, as Django's context is a dict,
/// parsed once into the engine's values.
fn context_object(json: &str) -> Result<minijinja::Value, Error> {
    match serde_json::from_str::<minijinja::Value>(json) {
        Ok(value) if value.kind() == minijinja::value::ValueKind::Map => Ok(value),
        Ok(_) => Err(internal("a template context must be a JSON object")),
        Err(e) => Err(internal(format!(
            "a template context must be a JSON object: {e}"
        ))),
    }
}

/// How many header values one response may carry: far above any real
/// response, and well below what makes `HeaderMap` panic.
const MAX_RESPONSE_HEADERS: usize = 1000;

/// A header value as Django would show it: UTF-8 when it is, otherwise
/// ISO-8859-1 (what WSGI hands Django), so no value is ever unreadable.
fn value_to_string(value: &HeaderValue) -> String {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(s) => s.to_owned(),
        Err(_) => value.as_bytes().iter().map(|&b| char::from(b)).collect(),
    }
}

fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    Some(values.map(value_to_string).collect::<Vec<_>>().join(", "))
}

fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers.get_all(name).iter().map(value_to_string).collect()
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), value_to_string(v)))
        .collect()
}

/// Bytes a list of headers copies into a guest.
fn copied(pairs: &[(String, String)]) -> usize {
    pairs.iter().map(|(n, v)| n.len() + v.len()).sum()
}

/// Checks a header a guest wants to send. Refusing here (rather than when
/// writing the response) pins the failure on the layer that caused it.
fn checked_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error {
        kind: ErrorKind::Internal,
        message: format!("invalid header name {name:?}"),
    })?;
    let header_value = HeaderValue::from_str(value).map_err(|_| Error {
        kind: ErrorKind::Internal,
        message: format!("invalid value for header {name:?}: {value:?} (control characters such as CR or LF are not allowed)"),
    })?;
    Ok((header_name, header_value))
}

impl TypesView<'_> {
    /// Checks a guest's header, then stores it with `op` (insert or append).
    fn add_header<R>(
        &mut self,
        resp: Resource<ResponseResource>,
        name: &str,
        value: &str,
        op: fn(&mut HeaderMap, HeaderName, HeaderValue) -> Result<R, http::header::MaxSizeReached>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.meter.hold(name.len() + value.len())?;
        let (name, value) = match checked_header(name, value) {
            Ok(pair) => pair,
            Err(e) => return Ok(Err(e)),
        };
        let headers = &mut self.table.get_mut(&resp)?.headers;
        if headers.len() >= MAX_RESPONSE_HEADERS || op(headers, name, value).is_err() {
            return Ok(Err(Error {
                kind: ErrorKind::Internal,
                message: format!("too many response headers (at most {MAX_RESPONSE_HEADERS})"),
            }));
        }
        Ok(Ok(()))
    }
}

impl types::Host for TypesView<'_> {}

impl types::HostRequest for TypesView<'_> {
    fn method(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<String> {
        Ok(self.table.get(&req)?.method.clone())
    }

    fn path(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<String> {
        Ok(self.table.get(&req)?.path.clone())
    }

    fn query(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<String> {
        Ok(self.table.get(&req)?.query.clone())
    }

    fn header(
        &mut self,
        req: Resource<RequestResource>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(joined(&self.table.get(&req)?.headers, &name))
    }

    fn header_values(
        &mut self,
        req: Resource<RequestResource>,
        name: String,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(values(&self.table.get(&req)?.headers, &name))
    }

    fn headers(
        &mut self,
        req: Resource<RequestResource>,
    ) -> wasmtime::Result<Vec<(String, String)>> {
        let pairs = pairs(&self.table.get(&req)?.headers);
        self.meter.charge_copy(copied(&pairs))?;
        Ok(pairs)
    }

    fn body(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<Vec<u8>> {
        let body = match self.table.get(&req)?.body.whole_bytes() {
            Ok(bytes) => bytes.to_vec(),
            // Raised in the guest's place, as Django raises from
            // `request.body`: the layer fails with the exception's kind.
            Err(e) => return Err(wasmtime::Error::new(RaisedByHost(e.to_wit()))),
        };
        self.meter.charge_copy(body.len())?;
        Ok(body)
    }

    async fn read_body(
        &mut self,
        req: Resource<RequestResource>,
        max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let body = &mut self.table.get_mut(&req)?.body;
        let chunk = match body.read(max as usize).await {
            Ok(chunk) => chunk,
            Err(e) => return Ok(Err(e)),
        };
        self.meter.charge_copy(chunk.len())?;
        Ok(Ok(chunk.to_vec()))
    }

    fn client_addr(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<String> {
        Ok(self.table.get(&req)?.client_addr.clone())
    }

    fn scheme(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<String> {
        Ok(self.table.get(&req)?.scheme.to_owned())
    }

    fn attribute(
        &mut self,
        req: Resource<RequestResource>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        let req = self.table.get(&req)?;
        Ok(req
            .attributes
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone()))
    }

    fn set_attribute(
        &mut self,
        req: Resource<RequestResource>,
        name: String,
        value: String,
    ) -> wasmtime::Result<()> {
        self.meter.hold(name.len() + value.len())?;
        let req = self.table.get_mut(&req)?;
        match req.attributes.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => req.attributes.push((name, value)),
        }
        Ok(())
    }

    fn drop(&mut self, req: Resource<RequestResource>) -> wasmtime::Result<()> {
        // The host owns the request for the whole cycle; a guest only ever
        // borrows it, so there is nothing to drop here.
        let _ = req;
        Ok(())
    }
}

impl types::HostResponse for TypesView<'_> {
    fn new(&mut self, status: u16) -> wasmtime::Result<Resource<ResponseResource>> {
        if !valid_status(status) {
            wasmtime::bail!("invalid HTTP status {status}: a response status must be 200..=599");
        }
        Ok(self.table.push(ResponseResource::new(status))?)
    }

    fn status(&mut self, resp: Resource<ResponseResource>) -> wasmtime::Result<u16> {
        Ok(self.table.get(&resp)?.status)
    }

    fn set_status(
        &mut self,
        resp: Resource<ResponseResource>,
        status: u16,
    ) -> wasmtime::Result<Result<(), Error>> {
        if !valid_status(status) {
            return Ok(Err(Error {
                kind: ErrorKind::Internal,
                message: format!(
                    "invalid HTTP status {status}: a response status must be 200..=599"
                ),
            }));
        }
        self.table.get_mut(&resp)?.status = status;
        Ok(Ok(()))
    }

    fn header(
        &mut self,
        resp: Resource<ResponseResource>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(joined(&self.table.get(&resp)?.headers, &name))
    }

    fn header_values(
        &mut self,
        resp: Resource<ResponseResource>,
        name: String,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(values(&self.table.get(&resp)?.headers, &name))
    }

    fn headers(
        &mut self,
        resp: Resource<ResponseResource>,
    ) -> wasmtime::Result<Vec<(String, String)>> {
        let pairs = pairs(&self.table.get(&resp)?.headers);
        self.meter.charge_copy(copied(&pairs))?;
        Ok(pairs)
    }

    fn has_header(
        &mut self,
        resp: Resource<ResponseResource>,
        name: String,
    ) -> wasmtime::Result<bool> {
        Ok(self.table.get(&resp)?.headers.contains_key(name.as_str()))
    }

    fn set_header(
        &mut self,
        resp: Resource<ResponseResource>,
        name: String,
        value: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.add_header(resp, &name, &value, HeaderMap::try_insert)
    }

    fn append_header(
        &mut self,
        resp: Resource<ResponseResource>,
        name: String,
        value: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.add_header(resp, &name, &value, HeaderMap::try_append)
    }

    fn remove_header(
        &mut self,
        resp: Resource<ResponseResource>,
        name: String,
    ) -> wasmtime::Result<()> {
        self.table.get_mut(&resp)?.headers.remove(name.as_str());
        Ok(())
    }

    fn body(&mut self, resp: Resource<ResponseResource>) -> wasmtime::Result<Vec<u8>> {
        let resp = self.table.get(&resp)?;
        if resp.stream.is_some() {
            return Err(no_content(
                "This StreamingHttpResponse instance has no `content` attribute. Use `streaming_content` instead.",
            ));
        }
        let body = resp.body.to_vec();
        self.meter.charge_copy(body.len())?;
        Ok(body)
    }

    fn stream_from(
        &mut self,
        resp: Resource<ResponseResource>,
        source: u32,
    ) -> wasmtime::Result<()> {
        let resp = self.table.get_mut(&resp)?;
        resp.body = Bytes::new();
        resp.template = None;
        resp.stream = Some(StreamSource {
            id: source,
            from_view: false,
        });
        Ok(())
    }

    fn is_streaming(&mut self, resp: Resource<ResponseResource>) -> wasmtime::Result<bool> {
        Ok(self.table.get(&resp)?.stream.is_some())
    }

    fn set_body(
        &mut self,
        resp: Resource<ResponseResource>,
        body: Vec<u8>,
    ) -> wasmtime::Result<()> {
        if self.table.get(&resp)?.stream.is_some() {
            return Err(no_content(
                "property 'content' of 'StreamingHttpResponse' object has no setter",
            ));
        }
        self.meter.hold(body.len())?;
        self.meter.charge_copy(body.len())?;
        let resp = self.table.get_mut(&resp)?;
        resp.body = Bytes::from(body);
        // Django: assigning `content` marks a template response rendered.
        resp.template = None;
        Ok(())
    }

    fn set_template(
        &mut self,
        resp: Resource<ResponseResource>,
        names: Vec<String>,
        context: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let held: usize = names.iter().map(String::len).sum::<usize>() + context.len();
        self.meter.hold(held)?;
        self.meter.charge_copy(held)?;
        if names.is_empty() {
            return Ok(Err(internal(
                "a template response needs at least one template name",
            )));
        }
        let parsed = match context_object(&context) {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        let resp = self.table.get_mut(&resp)?;
        if resp.stream.is_some() {
            return Ok(Err(internal(
                "a streaming response cannot become a template response",
            )));
        }
        // Django's TemplateResponse has its content type from the start.
        resp.headers
            .entry(http::header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("text/html; charset=utf-8"));
        resp.template = Some(Box::new(PendingTemplate {
            names,
            context: parsed,
            json: context,
        }));
        Ok(Ok(()))
    }

    fn template_names(
        &mut self,
        resp: Resource<ResponseResource>,
    ) -> wasmtime::Result<Vec<String>> {
        let names = match &self.table.get(&resp)?.template {
            Some(t) => t.names.clone(),
            None => Vec::new(),
        };
        self.meter
            .charge_copy(names.iter().map(String::len).sum())?;
        Ok(names)
    }

    fn context(&mut self, resp: Resource<ResponseResource>) -> wasmtime::Result<Option<String>> {
        let Some(t) = &self.table.get(&resp)?.template else {
            return Ok(None);
        };
        let json = t.json.clone();
        self.meter.charge_copy(json.len())?;
        Ok(Some(json))
    }

    fn set_context(
        &mut self,
        resp: Resource<ResponseResource>,
        context: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.meter.hold(context.len())?;
        self.meter.charge_copy(context.len())?;
        let parsed = match context_object(&context) {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e)),
        };
        match &mut self.table.get_mut(&resp)?.template {
            Some(t) => {
                t.context = parsed;
                t.json = context;
            }
            None => {
                return Ok(Err(internal(
                    "set-context: this is not a template response",
                )));
            }
        }
        Ok(Ok(()))
    }

    fn drop(&mut self, resp: Resource<ResponseResource>) -> wasmtime::Result<()> {
        self.table.delete(resp)?;
        Ok(())
    }
}
