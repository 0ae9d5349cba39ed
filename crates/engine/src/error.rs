//! The engine's error type: a stable kind plus what the caller needs to build a typed error.
//!
//! Messages never contain the request URL or any header value, so an API key can not leak
//! through them (reqwest errors are stripped of their URL with `without_url`).

use bytes::Bytes;
use reqwest::header::HeaderMap;
use std::fmt;

/// A stable error kind; the TypeScript layer maps it to an error class and never parses messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No usable response: refused, reset, DNS, TLS, or the body broke off mid-way.
    Connection,
    /// An attempt ran past its timeout (connect timeout or per-attempt timeout).
    Timeout,
    /// The caller cancelled the request (AbortSignal, `break` out of a stream, dropped handle).
    Aborted,
    /// The server answered with a non-2xx status (after retries, if any were allowed).
    Status,
    /// The response could not be decoded (bad compression, invalid SSE, an event past `max_event_bytes`).
    Decode,
    /// The request itself is invalid (bad URL, bad header name or value); it was never sent.
    InvalidRequest,
    /// The origin's circuit breaker is open (see [`crate::breaker`]): the call was not sent.
    /// [`EngineError::retry_after`] says when the breaker lets a probe through.
    CircuitOpen,
    /// The client's own rate limit (see [`crate::limiter`]) would have made the call wait longer than
    /// `max_queue`: it was not sent. [`EngineError::retry_after`] is the wait it would have had.
    RateLimitedLocally,
}

impl ErrorKind {
    /// The kind as the lowercase name the boundary hands to JavaScript: `connection`, `timeout`,
    /// `aborted`, `status`, `decode`, `invalid_request`, `circuit_open` or `rate_limited_locally`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Status => "status",
            ErrorKind::Decode => "decode",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::RateLimitedLocally => "rate_limited_locally",
        }
    }
}

/// A complete non-2xx response attached to an error.
#[derive(Debug)]
pub struct ErrorResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// An error of one logical request (all its attempts).
#[derive(Debug)]
pub struct EngineError {
    /// What went wrong, as a stable kind.
    pub kind: ErrorKind,
    /// A human-readable description without URL, headers or secrets.
    pub message: String,
    /// The last response (status, headers, complete body), for [`ErrorKind::Status`]. Boxed to keep
    /// `Result<_, EngineError>` small.
    pub response: Option<Box<ErrorResponse>>,
    /// How many attempts were made (1 = no retry).
    pub attempts: u32,
    /// The attempt failed after the request went out on a connection and before any response byte
    /// came back (e.g. a pooled keep-alive connection the server had closed): the server saw no
    /// request, so one resend on a fresh connection is safe for any method.
    pub before_response: bool,
    /// A stable code for what failed, as Node names its own errors where there is one
    /// (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `ETIMEDOUT`, TLS codes such as
    /// `UNABLE_TO_GET_ISSUER_CERT_LOCALLY` or `ERR_TLS_CERT_ALTNAME_INVALID`, and aiwire's
    /// `ERR_PROXY_AUTH` for a proxy that refused the credentials). `None` when nothing more precise
    /// than the kind is known.
    pub code: Option<&'static str>,
    /// With `RequestSpec::trace`: the record of the attempts that failed before this error (see
    /// `Response::trace`).
    pub trace: Option<String>,
    /// For [`ErrorKind::CircuitOpen`] and [`ErrorKind::RateLimitedLocally`]: how long until a call may
    /// go through.
    pub retry_after: Option<std::time::Duration>,
}

impl EngineError {
    /// A new error of `kind` with `message` and no response attached; `attempts` starts at 0 and is set by
    /// the retry loop.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        EngineError {
            kind,
            message: message.into(),
            response: None,
            attempts: 0,
            before_response: false,
            code: None,
            trace: None,
            retry_after: None,
        }
    }

    /// A [`ErrorKind::Status`] error for a complete non-2xx response.
    pub fn status(status: u16, headers: HeaderMap, body: Bytes) -> Self {
        EngineError {
            kind: ErrorKind::Status,
            message: format!("HTTP status {status}"),
            response: Some(Box::new(ErrorResponse { status, headers, body })),
            attempts: 0,
            before_response: false,
            code: None,
            trace: None,
            retry_after: None,
        }
    }

    /// Classify an error of sending a request and waiting for its response head: a failure that is not
    /// a connect error or a timeout happened after the request was written on a connection and before a
    /// response byte arrived (see [`EngineError::before_response`]).
    pub fn from_send(err: reqwest::Error) -> Self {
        let pre = !err.is_connect() && !err.is_timeout() && !err.is_builder();
        let mut e = Self::from_reqwest(err);
        e.before_response = pre && e.kind == ErrorKind::Connection;
        e
    }

    /// HTTP status of the attached response, if any.
    pub fn http_status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// Classify a reqwest error (URL stripped so it can not carry a key in a query string).
    pub fn from_reqwest(err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_builder() {
            ErrorKind::InvalidRequest
        } else if err.is_decode() {
            // reqwest reports every body failure under decompression as "decode"; only bad data is one.
            // A transport failure underneath (reset, truncated body) is a connection error.
            Self::transport_cause(&err).unwrap_or(ErrorKind::Decode)
        } else {
            ErrorKind::Connection
        };
        let err = err.without_url();
        let code = Self::code_of(&err);
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        if code == Some("ERR_PROXY_AUTH") {
            message = "the proxy refused the credentials (407 Proxy Authentication Required): check the user \
                       and password in the proxy URL (the `proxy` option or HTTPS_PROXY / HTTP_PROXY / ALL_PROXY)"
                .to_string();
        }
        let mut e = EngineError::new(kind, message);
        e.code = code;
        e
    }

    /// The stable code of a reqwest error, from its causes (see [`EngineError::code`]).
    fn code_of(err: &reqwest::Error) -> Option<&'static str> {
        use std::io::ErrorKind as Io;
        if let Some(code) = crate::tls::tls_error_code(err) {
            return Some(code);
        }
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            let text = s.to_string();
            // hyper-util's tunnel error for a 407 answer to CONNECT (its type is private).
            if text.contains("proxy authorization required") {
                return Some("ERR_PROXY_AUTH");
            }
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    Io::ConnectionRefused => return Some("ECONNREFUSED"),
                    Io::ConnectionReset => return Some("ECONNRESET"),
                    Io::TimedOut => return Some("ETIMEDOUT"),
                    _ => {}
                }
            }
            if text.contains("failed to lookup address") || text.contains("dns error") {
                return Some("ENOTFOUND");
            }
            source = s.source();
        }
        err.is_timeout().then_some("ETIMEDOUT")
    }
}

impl EngineError {
    /// The kind implied by the transport-level causes of a body error: a hyper error (reset, truncated
    /// or malformed HTTP framing) or an I/O error of a transport kind (reset, aborted, broken pipe,
    /// timed out) means the connection failed; any other I/O error under a decompressor (flate2 and
    /// brotli report corrupt data as `Other`) means the data was bad: decode.
    fn transport_cause(err: &reqwest::Error) -> Option<ErrorKind> {
        use std::io::ErrorKind as Io;
        let mut source = std::error::Error::source(err);
        let mut found = None;
        while let Some(s) = source {
            if s.downcast_ref::<hyper::Error>().is_some() {
                return Some(ErrorKind::Connection);
            }
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                let transport = matches!(
                    io.kind(),
                    Io::ConnectionReset
                        | Io::ConnectionAborted
                        | Io::BrokenPipe
                        | Io::TimedOut
                        | Io::NotConnected
                );
                found = Some(if transport { ErrorKind::Connection } else { ErrorKind::Decode });
            }
            source = s.source();
        }
        found
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error", self.kind.as_str())?;
        if let Some(status) = self.http_status() {
            write!(f, " (status {status})")?;
        }
        write!(f, ": {} (after {} attempt(s))", self.message, self.attempts)
    }
}

impl std::error::Error for EngineError {}
