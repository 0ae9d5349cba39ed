//! A request as described by JavaScript (`NativeRequest`, with multipart `NativePart`s) converted to the
//! engine's `RequestSpec`, and the small conversions shared by the boundary (durations, header lists).

use crate::body::NativeBodySender;
use crate::decode::Decode;
use aiwire_engine::upload::{Part, Source, Upload};
use aiwire_engine::{HeaderMap, Idempotency, Method, RequestLimit, RequestSpec, RetryOn};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::time::Duration;

/// One request as described by the TypeScript layer.
#[napi(object)]
pub struct NativeRequest<'a> {
    /// HTTP method, upper case.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Per-request headers, flat `[name, value, ...]`.
    pub headers: Option<Vec<String>>,
    /// Client default headers (lower-case names) not to send with this request.
    pub remove_headers: Option<Vec<String>>,
    /// Body: a string (JSON) or a Buffer (binary). At most one of `body`, `bodyPath`, `bodySender`,
    /// `multipart`.
    pub body: Option<Either<String, Buffer>>,
    /// Body: this whole file, streamed from disk (re-opened on each attempt: retries as usual); sent
    /// with `Content-Length`. Set `content-type` in `headers`.
    pub body_path: Option<String>,
    /// Body: chunks pushed through this sender (chunked encoding). Not replayable: the request makes
    /// exactly one attempt (no retry, no resend on a stale connection).
    pub body_sender: Option<ClassInstance<'a, NativeBodySender>>,
    /// Body: `multipart/form-data` of these parts, framed by the engine (the `content-type` header with
    /// its boundary is set by the engine, replacing any given). Replayable (retries as usual) unless a
    /// part has a `sender`, in which case the request makes exactly one attempt.
    pub multipart: Option<Vec<NativePart<'a>>>,
    /// Per-attempt timeout override (ms).
    pub timeout_ms: Option<f64>,
    /// Retry count override.
    pub max_retries: Option<u32>,
    /// Which failures are retried: `"any"` (default: connection errors, 408, 409, 429, 5xx) or
    /// `"rate-limit-only"` (a 429 only; no resend after a dropped connection either), for creating
    /// requests to APIs that do not deduplicate on `Idempotency-Key`.
    pub retry_on: Option<String>,
    /// `undefined`: automatic key for non-GET requests; `""`: no key; any other string: that key.
    pub idempotency_key: Option<String>,
    /// Record the failed attempts (status, duration, what followed) for debug logs: the result's
    /// `trace`. Default false.
    pub trace: Option<bool>,
    /// `false`: not limited by the client's `rateLimit` (no turn taken, no wait). Default true.
    pub rate_limit: Option<bool>,
    /// This request's longest wait for a rate-limit turn (ms), instead of the client's `maxQueueMs`.
    pub max_queue_ms: Option<f64>,
    /// `false`: sent even when the origin's circuit breaker is open, its outcome not recorded. Default true.
    pub circuit_breaker: Option<bool>,
    /// `true`: the URL is one a server returned (a `next` page); with `endpoints` it goes to the
    /// endpoint whose base URL or origin it is on, not spread over them. Default false.
    pub pin_endpoint: Option<bool>,
    /// Hand the response body over as a string (UTF-8 text such as JSON) instead of a Buffer.
    /// Default false. A body that is not valid UTF-8 still comes as a Buffer.
    pub text_body: Option<bool>,
    /// A body decoder, by name. `"float-vectors"`: the body is a JSON object whose `data[*].<decodeField>`
    /// are float arrays or base64 little-endian float32 strings; the vectors come as one Float64Array
    /// plus offsets, the body without them as text (each vector replaced by `0`) and the original body
    /// as a Buffer. A body that does not decode is handed over as usual. Default: no decoding.
    pub decode: Option<String>,
    /// With `decode: "float-vectors"`: the vector field of each `data` item. Default `"embedding"`.
    pub decode_field: Option<String>,
}

/// One part of a `multipart/form-data` body: exactly one of `value`, `path`, `sender`.
#[napi(object)]
pub struct NativePart<'a> {
    /// The form field name.
    pub name: String,
    /// The part's bytes: a string (sent as UTF-8) or a Buffer.
    pub value: Option<Either<String, Buffer>>,
    /// A file streamed from disk, re-opened on each attempt.
    pub path: Option<String>,
    /// Chunks pushed from JS (makes the request single-attempt).
    pub sender: Option<ClassInstance<'a, NativeBodySender>>,
    /// The part's file name (`filename=`); a part with one is a file part.
    pub filename: Option<String>,
    /// The part's `Content-Type`. Default `application/octet-stream` for file parts, none for fields.
    pub content_type: Option<String>,
    /// A `sender` part's length in bytes, when known (the body then gets a `Content-Length`).
    pub length: Option<f64>,
}

/// A validated request: the engine's spec plus what the boundary does with the response.
pub(crate) struct Converted {
    pub spec: RequestSpec,
    pub text: bool,
    pub decode: Option<Decode>,
}

pub(crate) fn ms(v: Option<f64>, what: &str) -> Result<Option<Duration>> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(Duration::from_secs_f64(x / 1000.0))),
        Some(x) => Err(Error::new(
            Status::InvalidArg,
            format!("{what} must be a finite number of milliseconds >= 0, got {x}"),
        )),
    }
}

pub(crate) fn pairs(flat: Option<Vec<String>>) -> Vec<(String, String)> {
    let mut it = flat.unwrap_or_default().into_iter();
    let mut out = Vec::with_capacity(it.len() / 2);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

/// Headers as one string `name\nvalue\nname\nvalue` (one crossing instead of two strings per header;
/// `HeaderValue`s never contain `\n`, so JS splits it back into the flat list).
pub(crate) fn flat_headers_text(map: &HeaderMap) -> String {
    let mut out = String::with_capacity(map.len() * 32);
    for (k, v) in map.iter() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(k.as_str());
        out.push('\n');
        match std::str::from_utf8(v.as_bytes()) {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str(&String::from_utf8_lossy(v.as_bytes())),
        }
    }
    out
}

fn bytes_of(v: Either<String, Buffer>) -> bytes::Bytes {
    match v {
        Either::A(s) => bytes::Bytes::from(s.into_bytes()),
        Either::B(buf) => bytes::Bytes::copy_from_slice(&buf),
    }
}

fn invalid(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

fn length_of(v: Option<f64>, what: &str) -> Result<Option<u64>> {
    match v {
        None => Ok(None),
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 => Ok(Some(n as u64)),
        Some(n) => Err(invalid(format!("{what} must be a whole number of bytes >= 0, got {n}"))),
    }
}

fn part(p: NativePart<'_>, index: usize) -> Result<Part> {
    let given =
        usize::from(p.value.is_some()) + usize::from(p.path.is_some()) + usize::from(p.sender.is_some());
    if given != 1 {
        return Err(invalid(format!(
            "multipart part {index} ({:?}) must have exactly one of value, path, sender (has {given})",
            p.name
        )));
    }
    let length = length_of(p.length, "multipart part length")?;
    let source = match (p.value, p.path, p.sender) {
        (Some(v), _, _) => Source::Bytes(bytes_of(v)),
        (_, Some(path), _) => Source::File(path.into()),
        (_, _, Some(sender)) => Source::Channel(sender.receiver()),
        _ => unreachable!("exactly one is set"),
    };
    Ok(Part { name: p.name, filename: p.filename, content_type: p.content_type, source, length })
}

/// Convert and validate. Throws `InvalidArg` for an invalid method or timeout, more than one body, a
/// multipart part without exactly one source, an unknown decoder or `retryOn` value.
pub(crate) fn to_spec(req: NativeRequest<'_>) -> Result<Converted> {
    let method = Method::from_bytes(req.method.as_bytes())
        .map_err(|_| invalid(format!("invalid HTTP method {:?}", req.method)))?;
    let bodies = usize::from(req.body.is_some())
        + usize::from(req.body_path.is_some())
        + usize::from(req.body_sender.is_some())
        + usize::from(req.multipart.is_some());
    if bodies > 1 {
        return Err(invalid("give at most one of body, bodyPath, bodySender, multipart".into()));
    }
    let decode = Decode::parse(req.decode.as_deref(), req.decode_field)?;
    let mut spec = RequestSpec::new(method, req.url);
    spec.headers = pairs(req.headers);
    spec.remove_headers = req.remove_headers.unwrap_or_default();
    spec.body = req.body.map(bytes_of);
    if let Some(path) = req.body_path {
        spec.upload = Some(Upload::Raw { source: Source::File(path.into()), length: None });
    }
    if let Some(sender) = req.body_sender {
        spec.upload = Some(Upload::Raw { source: Source::Channel(sender.receiver()), length: None });
    }
    if let Some(parts) = req.multipart {
        let parts = parts.into_iter().enumerate().map(|(i, p)| part(p, i)).collect::<Result<Vec<_>>>()?;
        spec.upload = Some(Upload::multipart(parts));
    }
    spec.timeout = ms(req.timeout_ms, "timeout")?;
    spec.max_retries = req.max_retries;
    spec.retry_on = match req.retry_on.as_deref() {
        None | Some("any") => RetryOn::Any,
        Some("rate-limit-only") => RetryOn::RateLimitOnly,
        Some(other) => {
            return Err(invalid(format!("retryOn must be \"any\" or \"rate-limit-only\", got {other:?}")))
        }
    };
    spec.idempotency = match req.idempotency_key {
        None => Idempotency::Auto,
        Some(k) if k.is_empty() => Idempotency::Disabled,
        Some(k) => Idempotency::Key(k),
    };
    spec.trace = req.trace.unwrap_or(false);
    spec.rate_limit = match (req.rate_limit, ms(req.max_queue_ms, "rateLimit.maxQueueMs")?) {
        (Some(false), _) => RequestLimit::Off,
        (_, Some(d)) => RequestLimit::MaxQueue(d),
        _ => RequestLimit::Client,
    };
    spec.circuit_breaker = req.circuit_breaker.unwrap_or(true);
    spec.pin_endpoint = req.pin_endpoint.unwrap_or(false);
    Ok(Converted { spec, text: req.text_body.unwrap_or(false), decode })
}
