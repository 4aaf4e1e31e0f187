//! What every template sees besides its view's context, as Django's Jinja2
//! backend and the usual Jinja2 environment of a Django project provide it:
//! `request`, `csrf_token`, `csrf_input` and `csp_nonce` in the context, and the
//! functions `url()` (Django's `reverse`) and `static()`.

use std::sync::Arc;

use minijinja::value::{Kwargs, Object, ObjectRepr, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::resources::RequestResource;
use crate::router::ReverseError;
use crate::statics::Manifest;
use crate::urlconfs::UrlConfs;

/// What Python's `urllib.parse.quote` leaves alone (its default `safe='/'`),
/// which Django's `static()` and `page_not_found` apply to a path.
pub(crate) const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// The request attribute a CSRF middleware leaves its token in.
const CSRF_ATTRIBUTE: &str = "csrf_token";
/// The request attribute the CSP middleware leaves its nonce in.
const CSP_NONCE_ATTRIBUTE: &str = "csp_nonce";

/// Adds `url()` and `static()` to the environment.
pub(super) fn install(
    env: &mut Environment<'static>,
    static_url: &str,
    manifest: Option<Arc<Manifest>>,
    urlconfs: UrlConfs,
) {
    env.add_function(
        "url",
        move |state: &State, name: String, args: Rest<Value>, kwargs: Kwargs| {
            // The URLconf the request was resolved with, as Django's
            // reverse() uses the one `set_urlconf` chose.
            let request = state.lookup("request");
            let urlconf = request
                .as_ref()
                .and_then(|r| r.downcast_object_ref::<TemplateRequest>())
                .and_then(|r| r.urlconf.as_deref());
            url(urlconfs.router(urlconf), &name, &args, &kwargs)
        },
    );
    let prefix = static_url.to_owned();
    env.add_function("static", move |path: String| -> Result<String, Error> {
        // ManifestStaticFilesStorage with `manifest_strict`: a collected
        // site links only the hashed names, and a name missing from the
        // manifest is an error, not a link to a file that is not served.
        let path = match &manifest {
            Some(manifest) => manifest
                .lookup(path.trim_start_matches('/'))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("Missing staticfiles manifest entry for '{path}'"),
                    )
                })?
                .to_owned(),
            None => path,
        };
        Ok(static_path(&prefix, &path))
    });
}

/// Django's `static(path)`: `urljoin(STATIC_URL, quote(path))`, so a path
/// starting with '/' replaces the prefix's path.
fn static_path(prefix: &str, path: &str) -> String {
    let quoted = utf8_percent_encode(path, QUOTE).to_string();
    if !quoted.starts_with('/') {
        return format!("{prefix}{quoted}");
    }
    // The origin of an absolute prefix (`https://cdn.example/static/`).
    let origin = prefix
        .find("://")
        .and_then(|i| prefix[i + 3..].find('/').map(|j| &prefix[..i + 3 + j]))
        .unwrap_or("");
    format!("{origin}{quoted}")
}

/// The context of one rendering: the view's, then `request`, `csrf_token`
/// and `csrf_input`, then the context processors' values, each over the
/// ones before (the order of Django's Jinja2 backend). `csp_nonce` is the
/// CSP middleware's nonce, or none, as Django's `csp` context processor
/// gives it.
pub(super) fn context(
    view: &Value,
    request: &RequestResource,
    processed: serde_json::Map<String, serde_json::Value>,
) -> Value {
    let token = request
        .attributes
        .iter()
        .find(|(k, _)| k == CSRF_ATTRIBUTE)
        .map_or(String::new(), |(_, v)| v.clone());
    let input = format!(
        r#"<input type="hidden" name="csrfmiddlewaretoken" value="{}">"#,
        super::escape::markupsafe(&token)
    );
    let nonce = request
        .attributes
        .iter()
        .find(|(k, _)| k == CSP_NONCE_ATTRIBUTE)
        .map(|(_, v)| v.clone());
    // `context!` lets earlier sources win a key.
    minijinja::context! {
        ..Value::from_serialize(&processed),
        ..minijinja::context! {
            request => Value::from_object(TemplateRequest::of(request)),
            csrf_token => token,
            csrf_input => Value::from_safe_string(input),
            csp_nonce => nonce,
        },
        ..view.clone()
    }
}

/// `url('name', *args, **kwargs)`: Django's `reverse`. `NoReverseMatch`
/// fails the rendering, as it does in Django.
fn url(
    router: &crate::router::Router,
    name: &str,
    args: &[Value],
    kwargs: &Kwargs,
) -> Result<String, Error> {
    let args: Vec<String> = args.iter().map(Value::to_string).collect();
    let mut pairs = Vec::new();
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        pairs.push((key.to_owned(), value.to_string()));
    }
    router.reverse(name, &args, &pairs).map_err(|e| {
        let message = match e {
            ReverseError::NoReverseMatch(m) => format!("NoReverseMatch: {m}"),
            other => other.to_string(),
        };
        Error::new(ErrorKind::InvalidOperation, message)
    })
}

/// What `request.X` gives in a template: Django's `HttpRequest` fields a
/// template reads, and the attributes middleware set (`request.user`).
#[derive(Debug)]
struct TemplateRequest {
    method: String,
    path: String,
    scheme: &'static str,
    query: String,
    headers: Vec<(String, String)>,
    attributes: Vec<(String, String)>,
    urlconf: Option<String>,
}

impl TemplateRequest {
    fn of(r: &RequestResource) -> Self {
        TemplateRequest {
            method: r.method.clone(),
            path: r.path.clone(),
            scheme: r.scheme,
            query: r.query.clone(),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            attributes: r.attributes.clone(),
            urlconf: r.urlconf.clone(),
        }
    }

    /// `request.GET`: each parameter's last value, as a `QueryDict` shows
    /// it in a template.
    fn get_params(&self) -> Value {
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(self.query.as_bytes()) {
            map.insert(k.into_owned(), v.into_owned());
        }
        Value::from(map)
    }
}

impl Object for TemplateRequest {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        Some(match key {
            "method" => Value::from(self.method.clone()),
            "path" => Value::from(self.path.clone()),
            "scheme" => Value::from(self.scheme),
            "is_secure" => Value::from(self.scheme == "https"),
            "query_string" => Value::from(self.query.clone()),
            "GET" => self.get_params(),
            "headers" => Value::from_iter(self.headers.iter().cloned()),
            _ => {
                let (_, v) = self.attributes.iter().find(|(k, _)| k == key)?;
                Value::from(v.clone())
            }
        })
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<HttpRequest: {} '{}'>", self.method, self.path)
    }
}
