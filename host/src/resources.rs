//! The resources as the host holds them: the request, responses and open
//! key-value stores. Guests only ever get handles to these (see
//! `capability::types` and `capability::kv` for what a handle lets them
//! do), so they live in the store's `ResourceTable` and are never copied
//! whole across the boundary.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};

use crate::request_body::RequestBody;

/// The incoming request as every layer of one request sees it.
#[derive(Debug, Default)]
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct RequestResource {
    pub(crate) method: String,
    /// Percent-decoded, like Django's `request.path`.
    pub(crate) path: String,
    /// As received, for URL resolution (which decodes it itself).
    pub(crate) raw_path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    /// Whole, or read as it arrives (`read-body`).
    pub(crate) body: RequestBody,
    pub(crate) client_addr: String,
    pub(crate) scheme: &'static str,
    /// Django's ad-hoc request attributes (`request.user`, ...), in the order set.
    pub(crate) attributes: Vec<(String, String)>,
    /// The URLconf its URL was resolved with, once resolved (`None`: the
    /// root one).
    pub(crate) urlconf: Option<String>,
    /// The W3C `traceparent` (and `tracestate`) a guest's outbound
    /// requests carry (`[server] otlp_endpoint`); none without tracing.
    /// Shared, so handing them to a store for a call copies a pointer.
    pub(crate) trace_headers: Option<std::sync::Arc<[(String, String)]>>,
}

/// A response being built or passed between layers.
#[derive(Debug)]
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct ResponseResource {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// Set while this is a template response not rendered yet.
    pub(crate) template: Option<Box<PendingTemplate>>,
    /// Set on a streaming response: where its body comes from.
    pub(crate) stream: Option<StreamSource>,
}

/// The body of a streaming response: `body-source.next-chunk(id)` of the
/// component that made it, honoured only for a view's own response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamSource {
    pub(crate) id: u32,
    /// Marked by the host when the response comes straight from a view.
    pub(crate) from_view: bool,
}

/// What Django's `TemplateResponse` holds until it is rendered.
#[derive(Debug, Clone)]
pub(crate) struct PendingTemplate {
    /// Candidate names, first found wins; never empty.
    pub(crate) names: Vec<String>,
    /// The view's context (`context_data`), as the engine reads it: parsed
    /// once, straight from the JSON.
    pub(crate) context: minijinja::Value,
    /// The same as JSON text, as the guest gave it: what `context()` hands
    /// back without serializing again.
    pub(crate) json: String,
}

impl PendingTemplate {
    /// A template response the host makes (an error page's).
    pub(crate) fn from_map(
        names: Vec<String>,
        context: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        PendingTemplate {
            names,
            json: serde_json::Value::Object(context.clone()).to_string(),
            context: minijinja::Value::from_serialize(&context),
        }
    }
}

impl ResponseResource {
    /// A response with no headers and an empty body.
    pub(crate) fn new(status: u16) -> Self {
        ResponseResource {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            template: None,
            stream: None,
        }
    }

    /// A response with a content type and body.
    pub(crate) fn with_body(status: u16, content_type: &'static str, body: Bytes) -> Self {
        let mut resp = ResponseResource::new(status);
        resp.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        resp.body = body;
        resp
    }
}

/// An open key-value store, as a guest holds it (`key-value.store`): only
/// its name; what it may do is checked against the grant on every call.
#[derive(Debug)]
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct KvStoreHandle {
    pub(crate) name: String,
}
