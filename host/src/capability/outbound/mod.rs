//! `shallot:http/outbound-http`: requests only to the hosts a component's
//! `allowed_outbound_hosts` lists, with a timeout and a response-size cap.

mod client;

use std::time::Duration;

use wasmtime::component::{HasData, Linker};

use super::Grant;
use super::error::{HostError, HostResult, trappable};
use crate::bindings::outbound_http::{self, Host, IncomingResponse, OutgoingRequest};
use crate::bindings::types::{Error, ErrorKind};
use crate::untrusted::Untrusted;

use client::OutboundError;
pub(crate) use client::{AllowedHosts, OutboundClient};

/// How long one outbound request may take, connect to last body byte.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body a guest can receive.
const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// The grant that links this interface: `allowed_outbound_hosts = [...]`.
pub(crate) const GRANT: Grant = Grant {
    interface: "outbound-http",
    field: "allowed_outbound_hosts",
    granted: |g| !g.allowed_outbound_hosts.is_empty(),
};

/// Checks one `allowed_outbound_hosts` entry, for the config parser.
pub(crate) fn check_host_pattern(pattern: &str) -> Result<(), String> {
    AllowedHosts::parse(&[pattern.to_owned()])
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Configure phase, once per pipeline: one client (and connection pool)
/// for every component.
pub(crate) fn configure() -> OutboundClient {
    OutboundClient::new()
}

/// What `send` reaches, per request: who is asking, the hosts its grant
/// allows, the pipeline's client, and the request's trace.
pub(crate) struct OutboundView<'a> {
    pub(crate) component: &'a str,
    pub(crate) allowed: &'a AllowedHosts,
    pub(crate) client: &'a OutboundClient,
    /// Added as `traceparent` unless the guest sets its own, so the
    /// services it calls join the request's trace.
    pub(crate) traceparent: Option<&'a str>,
}

struct Outbound;

impl HasData for Outbound {
    type Data<'a> = OutboundView<'a>;
}

/// Link phase: `shallot:http/outbound-http`, only for granted components.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> OutboundView<'_>,
) -> wasmtime::Result<()> {
    outbound_http::add_to_linker::<T, Outbound>(linker, view)
}

impl OutboundView<'_> {
    /// Checked on every call: the URL's host against the grant.
    async fn send_checked(&mut self, mut req: OutgoingRequest) -> HostResult<IncomingResponse> {
        if let Some(traceparent) = self.traceparent
            && !req
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("traceparent"))
        {
            req.headers
                .push(("traceparent".to_owned(), traceparent.to_owned()));
        }
        let result = self
            .client
            .send(
                self.allowed,
                &req.method,
                &req.url,
                &req.headers,
                req.body,
                TIMEOUT,
                MAX_RESPONSE_BYTES,
            )
            .await;
        match result {
            Ok(resp) => Ok(IncomingResponse {
                status: resp.status,
                headers: resp.headers,
                body: resp.body,
            }),
            Err(e @ OutboundError::Denied { .. }) => {
                tracing::warn!(
                    component = self.component,
                    url = req.url,
                    "outbound request denied: {}",
                    Untrusted(&e.to_string())
                );
                Err(HostError::guest(ErrorKind::PermissionDenied, e.to_string()))
            }
            Err(e) => Err(HostError::guest(ErrorKind::Internal, e.to_string())),
        }
    }
}

impl Host for OutboundView<'_> {
    async fn send(
        &mut self,
        req: OutgoingRequest,
    ) -> wasmtime::Result<Result<IncomingResponse, Error>> {
        trappable(self.send_checked(req).await)
    }
}
