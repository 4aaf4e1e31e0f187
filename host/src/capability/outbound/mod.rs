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
    /// `traceparent` and `tracestate`, added unless the guest sets its own,
    /// so the services it calls join the request's trace.
    pub(crate) trace_headers: &'a [(String, String)],
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
        with_trace(&mut req.headers, self.trace_headers);
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

/// Adds the request's trace headers to an outbound request's, unless the
/// guest propagates a trace of its own (it set `traceparent` or
/// `tracestate`: adding ours beside it would merge two traces' state).
fn with_trace(headers: &mut Vec<(String, String)>, trace: &[(String, String)]) {
    let own = headers.iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("traceparent") || name.eq_ignore_ascii_case("tracestate")
    });
    if !own {
        headers.extend(trace.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::with_trace;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_trace_is_added_unless_the_guest_sent_its_own() {
        let trace = pairs(&[("traceparent", "00-ab-cd-01"), ("tracestate", "k=v")]);
        let mut plain = pairs(&[("accept", "*/*")]);
        with_trace(&mut plain, &trace);
        assert_eq!(
            plain,
            pairs(&[
                ("accept", "*/*"),
                ("traceparent", "00-ab-cd-01"),
                ("tracestate", "k=v")
            ])
        );
        // Header names are case-insensitive: the guest's trace stands whole.
        let mut own = pairs(&[("TraceParent", "00-ef-01-00")]);
        with_trace(&mut own, &trace);
        assert_eq!(own, pairs(&[("TraceParent", "00-ef-01-00")]));
        let mut own_state = pairs(&[("tracestate", "mine=1")]);
        with_trace(&mut own_state, &trace);
        assert_eq!(own_state, pairs(&[("tracestate", "mine=1")]));
        // Without tracing nothing is added.
        let mut untraced = pairs(&[("accept", "*/*")]);
        with_trace(&mut untraced, &[]);
        assert_eq!(untraced, pairs(&[("accept", "*/*")]));
    }
}
