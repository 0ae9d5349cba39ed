//! A small scriptable HTTP test server for the transport tests.
//!
//! It listens on `127.0.0.1:0`, speaks HTTP/1.1 and (prior-knowledge) h2c on the same port, records
//! every request (method, path and query, version, headers, body, arrival time, connection number)
//! and answers from a queue of scripted [`Reply`]s; once the queue is empty it answers `200 ok`.
//! It counts accepted and closed connections, and the largest number of requests in flight at once.
#![allow(dead_code)]

pub mod client;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What the server does with a request, after the reply's `delay`.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with the reply's status, headers and body.
    Respond,
    /// Reset the TCP connection (RST, via `SO_LINGER` 0) without sending a response head.
    ResetBeforeHeaders,
    /// Never answer (until the client goes away or the server is dropped).
    Hang,
    /// Send the head, then the body in these chunks, one every `interval`, then do `then`.
    Chunks { chunks: Vec<Bytes>, interval: Duration, then: After },
}

/// What a chunked body does after its last chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// End the body normally.
    End,
    /// Reset the TCP connection (RST) shortly after the last chunk.
    Reset,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub delay: Duration,
    pub gzip: bool,
    pub action: Action,
}

impl Reply {
    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
            gzip: false,
            action: Action::Respond,
        }
    }

    /// `200` with this body.
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Reply::status(200).body(body)
    }

    /// Reset the connection before any response byte.
    pub fn reset() -> Self {
        Reply { action: Action::ResetBeforeHeaders, ..Reply::status(0) }
    }

    /// Never answer.
    pub fn hang() -> Self {
        Reply { action: Action::Hang, ..Reply::status(0) }
    }

    /// A `200 text/event-stream` answer whose body is `chunks`, one every `interval`.
    pub fn sse<I, C>(chunks: I, interval: Duration) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        Reply::status(200).header("content-type", "text/event-stream").chunks(chunks, interval)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Gzip the body (or each chunk, sync-flushed so it can be decoded on arrival) and send
    /// `content-encoding: gzip`.
    pub fn gzip(mut self) -> Self {
        self.gzip = true;
        self
    }

    /// Send the body as these chunks, one every `interval` (the first one right after the head).
    pub fn chunks<I, C>(mut self, chunks: I, interval: Duration) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        let chunks = chunks.into_iter().map(Into::into).collect();
        self.action = Action::Chunks { chunks, interval, then: After::End };
        self
    }

    /// After the last chunk, reset the connection instead of ending the body.
    pub fn then_reset(mut self) -> Self {
        if let Action::Chunks { then, .. } = &mut self.action {
            *then = After::Reset;
        } else {
            panic!("then_reset needs a chunked reply");
        }
        self
    }
}

/// `s` split into pieces of at most `n` bytes.
pub fn split_every(s: &[u8], n: usize) -> Vec<Bytes> {
    s.chunks(n).map(Bytes::copy_from_slice).collect()
}

/// The whole of `data`, gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// One gzip stream cut into pieces: each piece compresses one chunk and is sync-flushed, so a
/// decoder can emit that chunk's bytes on arrival. With `finish` the last piece carries the trailer.
fn gzip_pieces(chunks: &[Bytes], finish: bool) -> Vec<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut pieces = Vec::with_capacity(chunks.len() + 1);
    for chunk in chunks {
        enc.write_all(chunk).unwrap();
        enc.flush().unwrap();
        pieces.push(Bytes::from(std::mem::take(enc.get_mut())));
    }
    if finish {
        pieces.push(Bytes::from(enc.finish().unwrap()));
    }
    pieces
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// Path and query, e.g. `/v1/x?a=1`.
    pub uri: String,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request head was handed to the service.
    pub at: Instant,
    /// Which accepted connection (1-based) carried it.
    pub conn: usize,
}

impl Recorded {
    /// The only value of header `name`; panics if it appears more than once.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next().map(|v| v.to_str().expect("visible ASCII header value"));
        assert!(values.next().is_none(), "header {name} sent more than once: {:?}", self.headers);
        first
    }

    /// The query string (after `?`), or `""`.
    pub fn query(&self) -> &str {
        self.uri.split_once('?').map_or("", |(_, q)| q)
    }
}

#[derive(Default)]
struct State {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    accepted: AtomicUsize,
    closed: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Decrements the in-flight count when a request's service future ends (or is dropped).
struct InFlight(Arc<State>);

impl InFlight {
    fn enter(state: &Arc<State>) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Per-connection control: lets a request ask its connection to be reset.
#[derive(Default)]
struct ConnCtl {
    reset: Notify,
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The scriptable server; stops (and drops its connections) when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestServer {
    /// Start a server with these replies queued.
    pub async fn start(replies: impl IntoIterator<Item = Reply>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        state.replies.lock().unwrap().extend(replies);
        let shutdown = CancellationToken::new();
        tokio::spawn(accept_loop(listener, state.clone(), shutdown.clone()));
        TestServer { addr, state, shutdown }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Queue more replies.
    pub fn push(&self, reply: Reply) {
        self.state.replies.lock().unwrap().push_back(reply);
    }

    /// A copy of the requests recorded so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// Connections that ended (closed by the peer, reset by a script, or failed).
    pub fn closed(&self) -> usize {
        self.state.closed.load(Ordering::SeqCst)
    }

    /// The largest number of requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Wait (polling, at most `limit`) until `cond` holds; returns whether it did.
    pub async fn wait_until(&self, limit: Duration, mut cond: impl FnMut(&TestServer) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.cancelled() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let conn = state.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::spawn(serve(stream, conn, state.clone(), shutdown.clone()));
    }
}

async fn serve(stream: TcpStream, conn_id: usize, state: Arc<State>, shutdown: CancellationToken) {
    // Small scripted chunks must leave at once, not wait for the client's delayed ACK (Nagle).
    let _ = stream.set_nodelay(true);
    // Keep a second descriptor of the socket so a script can reset it while hyper owns the stream.
    let std_stream = stream.into_std().unwrap();
    let spare = std_stream.try_clone().unwrap();
    let stream = TcpStream::from_std(std_stream).unwrap();
    let ctl = Arc::new(ConnCtl::default());
    let service = {
        let (state, ctl) = (state.clone(), ctl.clone());
        hyper::service::service_fn(move |req| handle(req, conn_id, state.clone(), ctl.clone()))
    };
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut connection = Box::pin(builder.serve_connection(TokioIo::new(stream), service));
    let reset = tokio::select! {
        _ = &mut connection => false,
        _ = ctl.reset.notified() => true,
        _ = shutdown.cancelled() => false,
    };
    let spare = TcpSocket::from_std_stream(spare);
    if reset {
        // With a zero linger time, closing the last descriptor sends RST instead of FIN.
        spare.set_zero_linger().unwrap();
    }
    drop(spare);
    drop(connection);
    state.closed.fetch_add(1, Ordering::SeqCst);
}

async fn handle(
    req: Request<Incoming>,
    conn: usize,
    state: Arc<State>,
    ctl: Arc<ConnCtl>,
) -> Result<Response<Body>, Infallible> {
    let at = Instant::now();
    let _in_flight = InFlight::enter(&state);
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let uri = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.to_string());
    state.requests.lock().unwrap().push(Recorded {
        method: parts.method,
        uri,
        version: parts.version,
        headers: parts.headers,
        body,
        at,
        conn,
    });
    let reply = state.replies.lock().unwrap().pop_front().unwrap_or_else(|| Reply::ok("ok"));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut builder =
        Response::builder().status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK));
    for (name, value) in &reply.headers {
        builder = builder
            .header(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    if reply.gzip {
        builder = builder.header("content-encoding", "gzip");
    }
    let body: Body = match reply.action {
        Action::ResetBeforeHeaders => {
            ctl.reset.notify_one();
            std::future::pending::<()>().await;
            unreachable!()
        }
        Action::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Action::Respond => {
            let bytes = if reply.gzip { Bytes::from(gzip(&reply.body)) } else { reply.body };
            Full::new(bytes).boxed_unsync()
        }
        Action::Chunks { chunks, interval, then } => {
            let chunks = if reply.gzip { gzip_pieces(&chunks, then == After::End) } else { chunks };
            chunk_body(chunks, interval, then, ctl)
        }
    };
    Ok(builder.body(body).unwrap())
}

/// A body that yields `chunks` one every `interval`, then ends or resets the connection.
fn chunk_body(chunks: Vec<Bytes>, interval: Duration, then: After, ctl: Arc<ConnCtl>) -> Body {
    let queue: VecDeque<Bytes> = chunks.into();
    let stream = futures_util::stream::unfold((queue, true), move |(mut queue, first)| {
        let ctl = ctl.clone();
        async move {
            if !first {
                tokio::time::sleep(interval).await;
            }
            match queue.pop_front() {
                Some(chunk) => Some((Ok::<_, Infallible>(Frame::data(chunk)), (queue, false))),
                None if then == After::End => None,
                None => {
                    // Give the client time to read what was sent, then reset.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    ctl.reset.notify_one();
                    std::future::pending::<()>().await;
                    None
                }
            }
        }
    });
    StreamBody::new(stream).boxed_unsync()
}
