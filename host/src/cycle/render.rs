//! The template half of `_get_response`: a template response's
//! `process_template_response` hooks, its context processors and its
//! rendering.

use super::{Invocation, Resp, guest_call};
use crate::bindings::types::{Error, ErrorKind};
use crate::hooks::Hook;
use crate::metrics::Layer;
use crate::resources::PendingTemplate;

impl Invocation<'_> {
    /// `process_template_response` bottom to top, every one of them, then
    /// the rendering. A failing template hook leaves `_get_response` (no
    /// `process_exception`); a failing rendering is offered to
    /// `process_exception`, whose response is returned as it is.
    pub(super) async fn template_response(&mut self, mut resp: Resp) -> Resp {
        for k in (0..self.pipeline.middleware.len()).rev() {
            resp = match self.process_template_response(k, resp).await {
                Ok(resp) => resp,
                Err(failure) => {
                    return Box::pin(self.failure_response(
                        k,
                        Hook::ProcessTemplateResponse,
                        &failure,
                    ))
                    .await;
                }
            };
        }
        let error = match self.render(&mut resp).await {
            Ok(()) => return resp,
            Err(error) => error,
        };
        tracing::error!(
            path = self.request.path,
            "rendering failed: {}",
            error.message
        );
        Box::pin(self.exception_response(&error, ErrorKind::Internal)).await
    }

    /// `TemplateResponse.render()`: the context processors, then the body
    /// from the template, the template forgotten. A response that stopped
    /// being a template response has no `render` (Django: an
    /// `AttributeError`).
    pub(super) async fn render(&mut self, resp: &mut Resp) -> Result<(), Error> {
        let Some(template) = resp.template.take() else {
            return Err(Error {
                kind: ErrorKind::Internal,
                message: "'HttpResponse' object has no attribute 'render': a \
                          process-template-response returned a response without a template"
                    .to_owned(),
            });
        };
        resp.body = self.render_template(&template).await?.into();
        Ok(())
    }

    /// Django's `render()` of one template with a request: the context
    /// processors' values over `template`'s context, then the engine.
    pub(super) async fn render_template(
        &mut self,
        template: &PendingTemplate,
    ) -> Result<String, Error> {
        let mut processed = serde_json::Map::new();
        for k in 0..self.pipeline.context_processors.len() {
            processed.extend(self.context_processor(k).await?);
        }
        let templates = self.pipeline.templates;
        let context = templates.context(template, &self.request, processed);
        let started = self.trace.start();
        let rendered = templates.render(&template.names, context).await;
        let failed = rendered.is_err().then_some("render");
        self.trace.layer(started, Layer::Render, failed);
        rendered.map_err(|e| Error {
            kind: ErrorKind::Internal,
            message: e.0,
        })
    }

    /// Context processor `k`'s values: a JSON object, or the error that
    /// fails the rendering.
    async fn context_processor(
        &mut self,
        k: usize,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        let processor = &self.pipeline.context_processors[k];
        let indices = &processor.context;
        let started = self.trace.start();
        let returned = guest_call(
            &mut self.processor_slots[k],
            &processor.loaded,
            Hook::ContextProcessor,
            &mut self.request,
            async |g, req| g.export(indices)?.call_context(&mut g.store, req).await,
        )
        .await;
        let failed = returned.as_ref().err().map(crate::metrics::failure_kind);
        self.trace
            .layer(started, Layer::ContextProcessor(&processor.name), failed);
        let label = &processor.loaded.context.label;
        let json = returned.map_err(|failure| {
            failure.log(label, Hook::ContextProcessor, &self.request.path);
            failure.to_wit(label, Hook::ContextProcessor)
        })?;
        match serde_json::from_str(&json) {
            Ok(serde_json::Value::Object(values)) => Ok(values),
            _ => Err(Error {
                kind: ErrorKind::Internal,
                message: format!("{label} returned a context that is not a JSON object"),
            }),
        }
    }
}
