//! A tower layer on the tonic server that counts every gRPC call by method and by the
//! status code it ended with, authentication refusals included (the layer sits outside
//! the interceptors):
//!
//! - `cloudmixer_grpc_requests_total{method}`: calls received;
//! - `cloudmixer_grpc_responses_total{method, code}`: calls answered, by gRPC status
//!   code name (`OK`, `INVALID_ARGUMENT`, ...; gRPC status codes, grpc/doc/statuscodes.md).
//!
//! The code is read from the `grpc-status` of the response headers (a Trailers-Only
//! response: errors before any message) or of the trailers (after the messages), per
//! the gRPC over HTTP/2 protocol (grpc/doc/PROTOCOL-HTTP2.md). A call whose response
//! body is dropped before its trailers (the client went away) counts as `CANCELLED`.
//!
//! Cardinality: `method` is one of the daemon's own methods or `other` (a client cannot
//! create series by calling made-up paths); `code` one of the 17 gRPC codes or `UNKNOWN`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower_layer::Layer;
use tower_service::Service;

/// Counter: calls received, by `method`.
pub const REQUESTS: &str = "cloudmixer_grpc_requests_total";
/// Counter: calls answered, by `method` and `code`.
pub const RESPONSES: &str = "cloudmixer_grpc_responses_total";

/// The methods the daemon serves, by their last path segment; anything else is `other`.
const METHODS: [(&str, &str); 10] = [
    ("/cloudmixer.v1.CloudMixer/", "CreateCloudMixer"),
    ("/cloudmixer.v1.CloudMixer/", "UpdateCloudMixerContent"),
    ("/cloudmixer.v1.CloudMixer/", "DestroyCloudMixer"),
    ("/cloudmixer.v1.CloudMixer/", "GetCloudMixer"),
    ("/cloudmixer.v1.CloudMixer/", "ListCloudMixers"),
    ("/cloudmixer.v1.CloudMixer/", "WatchEvents"),
    ("/grpc.health.v1.Health/", "Check"),
    ("/grpc.health.v1.Health/", "Watch"),
    (
        "/grpc.reflection.v1.ServerReflection/",
        "ServerReflectionInfo",
    ),
    (
        "/grpc.reflection.v1alpha.ServerReflection/",
        "ServerReflectionInfo",
    ),
];

/// The `method` label of a request path: the method name, or `other`.
pub fn method_label(path: &str) -> &'static str {
    METHODS
        .iter()
        .find(|(svc, m)| path.strip_prefix(svc) == Some(m))
        .map_or("other", |(_, m)| m)
}

/// The name of gRPC status code `code` (`grpc-status` value), or `UNKNOWN`.
pub fn code_label(code: &[u8]) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    std::str::from_utf8(code)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .and_then(|i| NAMES.get(i).copied())
        .unwrap_or("UNKNOWN")
}

fn status_of(h: &HeaderMap) -> Option<&'static str> {
    h.get("grpc-status").map(|v| code_label(v.as_bytes()))
}

/// The layer: wraps the tonic router's service in [`GrpcMetrics`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// Counts the calls `inner` serves ([`REQUESTS`], [`RESPONSES`]).
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for GrpcMetrics<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = Response<Observed<RB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let method = method_label(req.uri().path());
        metrics::counter!(REQUESTS, "method" => method).increment(1);
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let mut pending = Some(method);
            if let Some(code) = status_of(res.headers()) {
                record(&mut pending, code);
            }
            Ok(res.map(|inner| Observed { inner, pending }))
        })
    }
}

fn record(pending: &mut Option<&'static str>, code: &'static str) {
    if let Some(method) = pending.take() {
        metrics::counter!(RESPONSES, "method" => method, "code" => code).increment(1);
    }
}

/// A response body that records the call's status from its trailers (or `CANCELLED` if
/// dropped before them).
pub struct Observed<B> {
    inner: B,
    /// The method, until the call's code was recorded.
    pending: Option<&'static str>,
}

impl<B: Body + Unpin> Body for Observed<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(f))) => {
                if let Some(code) = f.trailers_ref().and_then(status_of) {
                    record(&mut this.pending, code);
                }
            }
            Poll::Ready(Some(Err(_))) => record(&mut this.pending, "INTERNAL"),
            Poll::Ready(None) => record(&mut this.pending, "UNKNOWN"),
            Poll::Pending => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Observed<B> {
    fn drop(&mut self) {
        record(&mut self.pending, "CANCELLED");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_the_daemons_own_or_other() {
        assert_eq!(
            method_label("/cloudmixer.v1.CloudMixer/CreateCloudMixer"),
            "CreateCloudMixer"
        );
        assert_eq!(method_label("/grpc.health.v1.Health/Check"), "Check");
        assert_eq!(
            method_label("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"),
            "ServerReflectionInfo"
        );
        assert_eq!(method_label("/cloudmixer.v1.CloudMixer/Nope"), "other");
        assert_eq!(method_label("/x.Y/CreateCloudMixer"), "other");
        assert_eq!(method_label(""), "other");
    }

    #[test]
    fn codes_by_name() {
        assert_eq!(code_label(b"0"), "OK");
        assert_eq!(code_label(b"3"), "INVALID_ARGUMENT");
        assert_eq!(code_label(b"16"), "UNAUTHENTICATED");
        assert_eq!(code_label(b"17"), "UNKNOWN");
        assert_eq!(code_label(b"x"), "UNKNOWN");
        assert_eq!(code_label(b"\xff"), "UNKNOWN");
    }
}
