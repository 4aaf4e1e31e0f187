//! Django's `TemplateResponse`: a response the host renders later, after
//! every `process_template_response`, with the templates of `[templates]`.

use crate::{Error, ErrorKind, Response};

/// Re-exported so a view can write `json!({...})` contexts.
pub use serde_json::{Map, Value, json};

/// Builds template responses (Django's `TemplateResponse(request, name,
/// context)`): a [`Response`] carrying a template name and its context,
/// rendered by the host only when it comes from `process_view`, the view
/// or `process_exception`.
///
/// ```ignore
/// use shallot_guest::{TemplateResponse, json};
/// let resp = TemplateResponse::new("movies/detail.html", json!({"title": "Alien"}))?;
/// ```
pub struct TemplateResponse;

impl TemplateResponse {
    /// A 200 template response for `template` (status and headers can be
    /// changed on the result like on any response).
    #[expect(
        clippy::new_ret_no_self,
        reason = "Django's TemplateResponse(...) is a response; so is what this builds"
    )]
    pub fn new(template: &str, context: Value) -> Result<Response, Error> {
        TemplateResponse::select(&[template], context)
    }

    /// Like [`TemplateResponse::new`] with candidates: the first that
    /// exists is rendered (Django's list of template names).
    pub fn select(templates: &[&str], context: Value) -> Result<Response, Error> {
        let resp = Response::new(200);
        set(&resp, templates, &context)?;
        Ok(resp)
    }
}

impl Response {
    /// The context of a template response not rendered yet (Django's
    /// `context_data`); `None` for any other response.
    pub fn context_data(&self) -> Option<Map<String, Value>> {
        let json = self.context()?;
        match serde_json::from_str(&json) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// Replaces the context of a template response.
    pub fn set_context_data(&self, context: &Map<String, Value>) -> Result<(), Error> {
        self.set_context(&Value::Object(context.clone()).to_string())
    }

    /// Makes this a template response for `templates` with `context`.
    pub fn set_template_response(&self, templates: &[&str], context: &Value) -> Result<(), Error> {
        set(self, templates, context)
    }
}

fn set(resp: &Response, templates: &[&str], context: &Value) -> Result<(), Error> {
    if !context.is_object() {
        return Err(Error::new(
            ErrorKind::Internal,
            "a template context must be a JSON object",
        ));
    }
    let names: Vec<String> = templates.iter().map(|t| (*t).to_owned()).collect();
    resp.set_template(&names, &context.to_string())
}

/// What a template filter returns (see [`filters`](crate::filters)).
pub enum Filtered {
    /// A value, escaped when the template prints it.
    Value(Value),
    /// Markup printed as it is (Django's `mark_safe`): escape what you put
    /// in it yourself.
    Safe(String),
}
