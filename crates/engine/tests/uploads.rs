//! Integration tests of streamed request bodies (`aiwire_engine::upload`) and of reading a body as raw
//! chunks, against local servers on 127.0.0.1: multipart framing parsed back by the server side, a
//! file body re-sent whole on a retry, a channel body never retried, an aborted channel, and a body
//! that is not read holding the server back.

mod support;

use aiwire_engine::upload::{body_channel, Part, Source, Upload};
use aiwire_engine::{ErrorKind, Method, RequestSpec};
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::client::*;
use support::{Reply, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One parsed part: headers (lower-case names) and body.
#[derive(Debug)]
struct ParsedPart {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl ParsedPart {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parse a multipart body (RFC 7578) back into parts; panics on a framing error.
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<ParsedPart> {
    let boundary = content_type.split("boundary=").nth(1).expect("boundary in content type");
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut rest: Vec<u8> = b"\r\n".to_vec();
    rest.extend_from_slice(body);
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut at = find(&rest, &delimiter).expect("first delimiter");
    assert_eq!(at, 0, "the body starts with the boundary");
    let mut parts = Vec::new();
    loop {
        let after = &rest[at + delimiter.len()..];
        if after.starts_with(b"--") {
            assert_eq!(&after[2..], b"\r\n", "nothing after the closing delimiter but CRLF");
            return parts;
        }
        assert!(after.starts_with(b"\r\n"), "CRLF after a delimiter");
        let part = &after[2..];
        let head_end = find(part, b"\r\n\r\n").expect("end of part headers");
        let headers = std::str::from_utf8(&part[..head_end])
            .unwrap()
            .split("\r\n")
            .map(|l| {
                let (k, v) = l.split_once(':').expect("header line");
                (k.trim().to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        let data = &part[head_end + 4..];
        let end = find(data, &delimiter).expect("next delimiter");
        parts.push(ParsedPart { headers, body: data[..end].to_vec() });
        let consumed = rest.len() - data.len() + end;
        rest = rest[consumed..].to_vec();
        at = 0;
    }
}

fn temp_file(name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    let path = std::env::temp_dir().join(format!("aiwire-it-{}-{name}", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn upload_spec(url: String, upload: Upload) -> RequestSpec {
    RequestSpec { upload: Some(upload), ..RequestSpec::new(Method::POST, url) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_parts_arrive_with_their_names_files_and_types() {
    let server = TestServer::start([Reply::ok("ok")]).await;
    let engine = engine(config());
    let (path, file) = temp_file("parts", 300_000);
    let (tx, rx) = body_channel();
    let upload = Upload::multipart(vec![
        Part::text("model", "whisper-1"),
        Part {
            content_type: Some("audio/wav".into()),
            ..Part::file("file", "speech ü.wav", Source::File(path.clone()))
        },
        Part::file("blob", "b.bin", Source::Bytes(Bytes::from_static(b"\x00\x01\r\n--x"))),
        Part::file("stream", "s.txt", Source::Channel(rx)),
    ]);
    let producer = tokio::spawn(async move {
        for chunk in [&b"hello "[..], b"world"] {
            tx.send(Bytes::from_static(chunk)).await.unwrap();
        }
        tx.end();
    });
    let resp = send(&engine, &upload_spec(server.url("/up"), upload)).await.unwrap();
    producer.await.unwrap();
    assert_eq!(resp.status, 200);
    let req = &server.requests()[0];
    let ct = req.header("content-type").unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary=----aiwire-"), "{ct}");
    // A channel part of unknown length: chunked, no Content-Length.
    assert_eq!(req.header("content-length"), None);
    let parts = parse_multipart(ct, &req.body);
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0].header("content-disposition"), Some("form-data; name=\"model\""));
    assert_eq!(parts[0].header("content-type"), None);
    assert_eq!(parts[0].body, b"whisper-1");
    assert_eq!(
        parts[1].header("content-disposition"),
        Some("form-data; name=\"file\"; filename=\"speech ü.wav\"")
    );
    assert_eq!(parts[1].header("content-type"), Some("audio/wav"));
    assert_eq!(parts[1].body, file);
    assert_eq!(parts[2].header("content-type"), Some("application/octet-stream"));
    assert_eq!(parts[2].body, b"\x00\x01\r\n--x");
    assert_eq!(parts[3].body, b"hello world");
    std::fs::remove_file(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayable_multipart_body_has_a_content_length() {
    let server = TestServer::start([Reply::ok("ok")]).await;
    let engine = engine(config());
    let (path, _) = temp_file("len", 70_000);
    let upload =
        Upload::multipart(vec![Part::text("a", "b"), Part::file("f", "f.bin", Source::File(path.clone()))]);
    send(&engine, &upload_spec(server.url("/len"), upload)).await.unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("content-length"), Some(req.body.len().to_string().as_str()));
    assert_eq!(req.header("transfer-encoding"), None);
    std::fs::remove_file(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_body_is_re_sent_whole_on_a_retry() {
    let server = TestServer::start([fast_retry(500), Reply::ok("done")]).await;
    let engine = engine(config());
    let (path, file) = temp_file("retry", 1_000_003);
    let raw = Upload::Raw { source: Source::File(path.clone()), length: None };
    let resp = send(&engine, &upload_spec(server.url("/raw"), raw)).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 2));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.body.len(), file.len());
        assert!(r.body[..] == file[..], "every attempt carries the whole file");
        assert_eq!(r.header("content-length"), Some("1000003"));
    }

    let server = TestServer::start([fast_retry(503), Reply::ok("done")]).await;
    let multi = Upload::multipart(vec![Part::file("file", "r.bin", Source::File(path.clone()))]);
    let resp = send(&engine, &upload_spec(server.url("/multi"), multi)).await.unwrap();
    assert_eq!(resp.attempts, 2);
    for r in server.requests() {
        let parts = parse_multipart(r.header("content-type").unwrap(), &r.body);
        assert!(parts[0].body == file, "every attempt carries the whole file part");
    }
    std::fs::remove_file(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_body_is_not_retried() {
    let server = TestServer::start([fast_retry(500), Reply::ok("done")]).await;
    let engine = engine(config());
    let (tx, rx) = body_channel();
    let producer = tokio::spawn(async move {
        tx.send(Bytes::from_static(b"streamed")).await.unwrap();
        tx.end();
    });
    let raw = Upload::Raw { source: Source::Channel(rx), length: None };
    let err = send(&engine, &upload_spec(server.url("/once"), raw)).await.unwrap_err();
    producer.await.unwrap();
    assert_eq!(err.kind, ErrorKind::Status);
    assert_eq!(err.http_status(), Some(500));
    assert_eq!(err.attempts, 1);
    assert_eq!(server.request_count(), 1);
    assert_eq!(&server.requests()[0].body[..], b"streamed");
    assert_eq!(server.requests()[0].header("transfer-encoding"), Some("chunked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_channel_fails_the_request_as_invalid_with_its_message() {
    let server = TestServer::start([Reply::ok("never")]).await;
    let engine = engine(config());
    let (tx, rx) = body_channel();
    let multi = Upload::multipart(vec![Part::file("f", "f", Source::Channel(rx))]);
    let producer = tokio::spawn(async move {
        tx.send(Bytes::from(vec![7u8; 10_000])).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        tx.abort("source stream failed: EIO");
    });
    let err = send(&engine, &upload_spec(server.url("/abort"), multi)).await.unwrap_err();
    producer.await.unwrap();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("source stream failed: EIO"), "{}", err.message);
    assert_eq!(err.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_an_invalid_request_and_not_retried() {
    let server = TestServer::start([]).await;
    let engine = engine(config());
    let raw = Upload::Raw { source: Source::File("/nonexistent/aiwire.bin".into()), length: None };
    let err = send(&engine, &upload_spec(server.url("/missing"), raw)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("/nonexistent/aiwire.bin"));
    assert_eq!(server.request_count(), 0);
}

/// A raw body (the building block of the boundary's `raw` streams) is read only as the caller asks:
/// while nobody calls `next_chunk`, the server is held back by the socket buffers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_body_holds_the_server_back() {
    const TOTAL: usize = 256 << 20;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let w = written.clone();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 4096];
        let _ = sock.read(&mut head).await;
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {TOTAL}\r\n\r\n"
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
        let chunk = vec![0x5au8; 64 * 1024];
        while w.load(Ordering::Relaxed) < TOTAL {
            if sock.write_all(&chunk).await.is_err() {
                return;
            }
            w.fetch_add(chunk.len(), Ordering::Relaxed);
        }
    });
    let engine = engine(config());
    let mut stream = open(&engine, &get(format!("http://{addr}/bytes"))).await.unwrap();
    let first = stream.next_chunk().await.unwrap().expect("a first chunk");
    assert!(!first.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let paused = written.load(Ordering::Relaxed);
    // Kernel socket buffers (loopback autotuning: up to tcp_rmem max, 32 MiB here, plus tcp_wmem max)
    // and hyper's read buffer; far from the 256 MiB an eager reader would take in this time.
    assert!(paused < 48 << 20, "server wrote {paused} bytes while the body was not read");
    let mut read = first.len();
    while read < 8 << 20 {
        read += stream.next_chunk().await.unwrap().expect("more").len();
    }
    assert!(written.load(Ordering::Relaxed) > paused, "reading lets the server go on");
}
