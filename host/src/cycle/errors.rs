//! Django's `response_for_exception`: a failure becomes the response of the
//! URLconf's error view for its status (`handler404` ...), or of Django's
//! default handler, which renders `404.html`, `500.html`, `403.html` or
//! `400.html` when the templates have one and the built-in page otherwise.

use super::{Invocation, Resp, guest_call};
use crate::bindings::types::{ErrorKind, ViewInfo};
use crate::error::{Failure, response_for_failure, status_for};
use crate::hooks::Hook;
use crate::metrics::Layer;
use crate::resources::PendingTemplate;

impl Invocation<'_> {
    /// `convert_exception_to_response` for middleware `k`'s `hook`.
    pub(super) async fn failure_response(
        &mut self,
        k: usize,
        hook: Hook,
        failure: &Failure,
    ) -> Resp {
        let label = &self.pipeline.middleware[k].loaded.context.label;
        failure.log(label, hook, &self.request.path);
        let message = failure.to_wit(label, hook).message;
        self.error_response(failure.kind(), &message).await
    }

    /// The response for a failure of `kind`: the error view of the
    /// request's URLconf for its status, else the default handler. An
    /// error view that fails gives way to the 500 handling, and that to
    /// the built-in page, as in Django.
    pub(super) async fn error_response(&mut self, kind: ErrorKind, message: &str) -> Resp {
        let status = status_for(kind);
        let pipeline = self.pipeline;
        let urlconf = pipeline.urlconfs.get(self.request.urlconf.as_deref());
        let view = urlconf.and_then(|u| u.error_views.for_status(status));
        let Some(view) = view else {
            return self.default_error_page(kind, message).await;
        };
        match self.error_view(view, status, message).await {
            Ok(resp) => resp,
            Err(failure) if status != 500 => {
                tracing::error!(
                    path = self.request.path,
                    "error view `{view}` for {status} failed: {failure}"
                );
                Box::pin(self.error_response(ErrorKind::Internal, &failure)).await
            }
            Err(failure) => {
                tracing::error!(
                    path = self.request.path,
                    "error view `{view}` for 500 failed: {failure}"
                );
                response_for_failure(ErrorKind::Internal)
            }
        }
    }

    /// Calls error view `name` (Django's `handler404(request, exception)`;
    /// `handler500(request)`). A template response it returns is rendered
    /// at once, as Django's `render()` shortcut in an error view does.
    async fn error_view(&mut self, name: &str, status: u16, message: &str) -> Result<Resp, String> {
        let pipeline = self.pipeline;
        let view = pipeline
            .views
            .get(name)
            .ok_or_else(|| format!("no view named {name:?}"))?;
        let info = ViewInfo {
            view_name: name.to_owned(),
            route_name: None,
            args: Vec::new(),
            kwargs: if status == 500 {
                Vec::new()
            } else {
                vec![("exception".to_owned(), message.to_owned())]
            },
        };
        self.error_pool = view.loaded.pool.clone();
        let indices = &view.handle;
        let started = self.trace.start();
        let returned = guest_call(
            &mut self.error_slot,
            &view.loaded,
            Hook::View,
            &mut self.request,
            async |g, req| {
                let returned = g
                    .export(indices)?
                    .call_handle(&mut g.store, req, &info)
                    .await?;
                g.take_response(returned)
            },
        )
        .await;
        let failed = returned.as_ref().err().map(crate::metrics::failure_kind);
        self.trace.layer(started, Layer::View(&view.name), failed);
        let label = format!("view `{name}`");
        let mut resp = returned.map_err(|failure| {
            failure.log(&label, Hook::View, &self.request.path);
            failure.to_wit(&label, Hook::View).message
        })?;
        if let Some(template) = resp.template.take() {
            resp.body = self
                .render_template(&template)
                .await
                .map_err(|e| e.message)?
                .into();
        }
        Ok(resp)
    }

    /// `django.views.defaults`: `NNN.html` when the templates have it (404
    /// and 403 with the request and the context processors, 500 and 400
    /// without, as Django renders them), else the built-in page.
    async fn default_error_page(&mut self, kind: ErrorKind, message: &str) -> Resp {
        let status = status_for(kind);
        let name = format!("{status}.html");
        if !matches!(status, 400 | 403 | 404 | 500) || !self.pipeline.templates.has(&name) {
            return response_for_failure(kind);
        }
        let mut context = serde_json::Map::new();
        if status == 404 {
            let path =
                percent_encoding::utf8_percent_encode(&self.request.path, crate::templates::QUOTE)
                    .to_string();
            context.insert("request_path".into(), path.into());
        }
        if matches!(status, 403 | 404) {
            context.insert("exception".into(), message.into());
        }
        let template = PendingTemplate::from_map(vec![name], context);
        let rendered = if matches!(status, 403 | 404) {
            self.render_template(&template).await.map_err(|e| e.message)
        } else {
            self.pipeline
                .templates
                .render_bare(&template)
                .await
                .map_err(|e| e.0)
        };
        match rendered {
            Ok(body) => {
                let mut resp = response_for_failure(kind);
                resp.body = body.into();
                resp
            }
            Err(e) => {
                tracing::error!(path = self.request.path, "{status}.html failed: {e}");
                response_for_failure(ErrorKind::Internal)
            }
        }
    }
}
