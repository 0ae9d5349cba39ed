use super::*;

async fn collect(opened: OpenedBody) -> Vec<u8> {
    use http_body_util::BodyExt;
    let bytes = opened.body.collect().await.expect("body").to_bytes();
    bytes.to_vec()
}

fn temp_file(name: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("aiwire-upload-{}-{name}", std::process::id()));
    std::fs::write(&path, data).unwrap();
    path
}

#[tokio::test]
async fn multipart_framing_is_byte_exact_and_its_length_is_known() {
    let path = temp_file("frame", b"file bytes\r\n--not-a-boundary");
    let upload = Upload::Multipart {
        boundary: "B".into(),
        parts: vec![
            Part::text("model", "m-1"),
            Part {
                content_type: Some("audio/wav".into()),
                ..Part::file("file", "a\"b\r\n.wav", Source::File(path.clone()))
            },
            Part::file("raw", "x.bin", Source::Bytes(Bytes::from_static(&[0, 255]))),
        ],
    };
    assert!(upload.replayable());
    let opened = upload.open().await.unwrap();
    assert_eq!(opened.content_type.as_deref(), Some("multipart/form-data; boundary=B"));
    let len = opened.length;
    let body = collect(opened).await;
    let mut want = Vec::new();
    want.extend_from_slice(b"--B\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm-1\r\n");
    want.extend_from_slice(
        b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a%22b%0D%0A.wav\"\r\nContent-Type: audio/wav\r\n\r\nfile bytes\r\n--not-a-boundary\r\n",
    );
    want.extend_from_slice(
        b"--B\r\nContent-Disposition: form-data; name=\"raw\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\xff\r\n--B--\r\n",
    );
    assert_eq!(String::from_utf8_lossy(&body), String::from_utf8_lossy(&want));
    assert_eq!(body, want);
    assert_eq!(len, Some(want.len() as u64));
    // Replayable: a second open gives the same bytes (the file is re-opened).
    assert_eq!(collect(upload.open().await.unwrap()).await, want);
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn a_missing_file_is_an_invalid_request_naming_the_path() {
    let upload = Upload::Raw { source: Source::File("/nonexistent/aiwire/x.bin".into()), length: None };
    let err = upload.open().await.err().expect("error");
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("/nonexistent/aiwire/x.bin"), "{}", err.message);
}

#[tokio::test]
async fn a_content_type_with_a_line_break_is_refused() {
    let upload = Upload::multipart(vec![Part {
        content_type: Some("text/plain\r\nX-Evil: 1".into()),
        ..Part::text("a", "b")
    }]);
    assert_eq!(upload.open().await.err().expect("error").kind, ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn a_channel_is_read_once_bounded_and_can_be_aborted() {
    let (tx, rx) = body_channel();
    let upload = Upload::Raw { source: Source::Channel(rx), length: None };
    assert!(!upload.replayable());
    // Bounded: CHANNEL_CHUNKS sends complete, the next one waits.
    for _ in 0..CHANNEL_CHUNKS {
        tx.send(Bytes::from_static(b"x")).await.unwrap();
    }
    let blocked = tokio::time::timeout(Duration::from_millis(50), tx.send(Bytes::from_static(b"y"))).await;
    assert!(blocked.is_err(), "a full channel must make send wait");
    let opened = upload.open().await.unwrap();
    assert_eq!(opened.length, None);
    assert_eq!(upload.open().await.err().expect("second open").kind, ErrorKind::InvalidRequest);
    let reader = tokio::spawn(collect(opened));
    tx.send(Bytes::from_static(b"z")).await.unwrap();
    tx.end();
    assert_eq!(tx.send(Bytes::from_static(b"late")).await, Err(SendError::Ended));
    assert_eq!(reader.await.unwrap(), b"xxxxz");

    let (tx, rx) = body_channel();
    let upload = Upload::Raw { source: Source::Channel(rx), length: None };
    let opened = upload.open().await.unwrap();
    tx.send(Bytes::from_static(b"a")).await.unwrap();
    tx.abort("source failed");
    use http_body_util::BodyExt;
    let err = opened.body.collect().await.expect_err("aborted body fails");
    assert!(format!("{err:?}").contains("source failed"), "{err:?}");
    assert_eq!(upload.aborted().as_deref(), Some("source failed"));
}

#[tokio::test]
async fn send_fails_once_the_request_stops_reading() {
    let (tx, rx) = body_channel();
    drop(rx);
    assert_eq!(tx.send(Bytes::from_static(b"a")).await, Err(SendError::Closed));
}

use std::time::Duration;
