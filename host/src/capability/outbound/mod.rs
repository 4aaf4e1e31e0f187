//! `shallot:http/outbound-http`: requests only to the hosts a component's
//! `allowed_outbound_hosts` lists, with a timeout and a response-size cap.

use std::time::Duration;

use crate::bindings::outbound_http::{Host, IncomingResponse, OutgoingRequest};
use crate::bindings::types::{Error, ErrorKind};
use crate::state::RequestState;

use super::outbound::OutboundError;

/// How long one outbound request may take, connect to last body byte.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body a guest can receive.
const MAX_RESPONSE_BYTES: usize = 4 << 20;

impl Host for RequestState {
    async fn send(
        &mut self,
        req: OutgoingRequest,
    ) -> wasmtime::Result<Result<IncomingResponse, Error>> {
        let current = self.current.clone();
        let result = current
            .services
            .outbound
            .send(
                &current.allowed_hosts,
                &req.method,
                &req.url,
                &req.headers,
                req.body,
                TIMEOUT,
                MAX_RESPONSE_BYTES,
            )
            .await;
        Ok(match result {
            Ok(resp) => Ok(IncomingResponse {
                status: resp.status,
                headers: resp.headers,
                body: resp.body,
            }),
            Err(e @ OutboundError::Denied { .. }) => {
                tracing::warn!(
                    component = &*current.label,
                    url = req.url,
                    "outbound request denied: {}",
                    crate::untrusted::Untrusted(&e.to_string())
                );
                Err(Error {
                    kind: ErrorKind::PermissionDenied,
                    message: e.to_string(),
                })
            }
            Err(e) => Err(Error {
                kind: ErrorKind::Internal,
                message: e.to_string(),
            }),
        })
    }
}
