//! Unit tests of the parent module (kept in their own file; private items are in scope via `super`).

use super::*;
use proptest::prelude::*;
use serde_json::Value;

fn decode(body: &str) -> DecodedVectors {
    decode_embeddings(body.as_bytes()).unwrap_or_else(|e| panic!("{e}\nbody: {body}"))
}

/// `body` parsed, with every `data[i].embedding` replaced by 0.
fn zeroed(body: &str) -> Value {
    let mut v: Value = serde_json::from_str(body).unwrap();
    for item in v["data"].as_array_mut().unwrap() {
        item["embedding"] = Value::from(0);
    }
    v
}

fn check_json(body: &str, d: &DecodedVectors) {
    let got: Value = serde_json::from_str(&d.json).unwrap();
    assert_eq!(got, zeroed(body), "json: {}", d.json);
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn base64_of(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

#[test]
fn float_body() {
    let body = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,3]},{"object":"embedding","index":1,"embedding":[-0.012345678918063641]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
    let d = decode(body);
    assert_eq!(d.values, vec![0.1, -0.2, 3.0, -0.012345678918063641]);
    assert_eq!(d.offsets, vec![0, 3, 4]);
    assert_eq!(d.formats, vec![EmbeddingFormat::Float; 2]);
    assert_eq!(d.count(), 2);
    assert_eq!(d.vector(0), &[0.1, -0.2, 3.0]);
    assert_eq!(d.vector(1), &[-0.012345678918063641]);
    assert_eq!(
        d.json,
        r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":0},{"object":"embedding","index":1,"embedding":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#
    );
    check_json(body, &d);
}

#[test]
fn base64_body() {
    let a = [0.1f32, -0.2, 1.0e-7, f32::MAX, f32::MIN_POSITIVE, -0.0, 0.0];
    let b = [0.5f32];
    let body = format!(
        r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":"{}"}},{{"object":"embedding","index":1,"embedding":"{}"}}],"model":"m","usage":{{"prompt_tokens":1,"total_tokens":1}}}}"#,
        base64_of(&a),
        base64_of(&b)
    );
    let d = decode(&body);
    let want: Vec<f64> = a.iter().chain(&b).map(|&x| x as f64).collect();
    assert_eq!(bits(&d.values), bits(&want));
    assert_eq!(d.values[0], 0.10000000149011612); // what new Float32Array(buf)[0] gives in JS
    assert_eq!(d.offsets, vec![0, 7, 8]);
    assert_eq!(d.formats, vec![EmbeddingFormat::Base64; 2]);
    check_json(&body, &d);
    assert_eq!(
        d.json,
        r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":0},{"object":"embedding","index":1,"embedding":0}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}"#
    );
}

#[test]
fn base64_with_json_escapes_and_empty_string() {
    // `\/` is a legal JSON escape for `/`, so the string can not be borrowed from the body.
    let v = [f32::from_bits(0xffff_ffff), 1.5, -2.25];
    let b64 = base64_of(&v);
    assert!(b64.contains('/'), "{b64}");
    let body = format!(r#"{{"data":[{{"embedding":"{}"}},{{"embedding":""}}]}}"#, b64.replace('/', "\\/"));
    let d = decode(&body);
    let want: Vec<f64> = v.iter().map(|&x| x as f64).collect();
    assert_eq!(bits(&d.values), bits(&want));
    assert_eq!(d.offsets, vec![0, 3, 3]);
    assert_eq!(d.json, r#"{"data":[{"embedding":0},{"embedding":0}]}"#);
}

#[test]
fn mixed_formats_and_empty_vectors() {
    let body = format!(
        r#"{{"data":[{{"embedding":[]}},{{"embedding":"{}"}},{{"embedding":[1,2]}},{{"embedding":[]}}]}}"#,
        base64_of(&[7.0])
    );
    let d = decode(&body);
    assert_eq!(d.values, vec![7.0, 1.0, 2.0]);
    assert_eq!(d.offsets, vec![0, 0, 1, 3, 3]);
    assert_eq!(
        d.formats,
        vec![EmbeddingFormat::Float, EmbeddingFormat::Base64, EmbeddingFormat::Float, EmbeddingFormat::Float]
    );
    assert!(d.vector(0).is_empty() && d.vector(3).is_empty());
    check_json(&body, &d);
}

#[test]
fn key_order_unknown_keys_and_raw_values_preserved() {
    let body = concat!(
        " {\n  \"zeta\" : {\"b\": 1, \"a\": [1.50, \"x\\u00e9\\n\"]},\n",
        "  \"data\" : [ {\"embedding\" : [ 1 , 2 ] , \"extra\" : {\"k\" : null}, \"index\" : 0, \"object\":\"embedding\"},\n",
        "             {\"index\":1, \"embedding\":[3], \"z\":true, \"a\":1e2} ] ,\n",
        "  \"model\":\"text-embedding-3-large\", \"object\": \"list\", \"usage\": {\"total_tokens\": 8, \"prompt_tokens\": 8},",
        " \"unicode\": \"héllo \\ud83d\\ude00\", \"big\": 123456789012345678901234567890, \"alpha\": -0.0 }\n"
    );
    let d = decode(body);
    assert_eq!(d.values, vec![1.0, 2.0, 3.0]);
    assert_eq!(d.offsets, vec![0, 2, 3]);
    // Whitespace between top-level / item tokens dropped, values byte for byte (inner whitespace,
    // `1.50`, `1e2`, escapes, the big integer).
    assert_eq!(
        d.json,
        concat!(
            r#"{"zeta":{"b": 1, "a": [1.50, "x\u00e9\n"]},"data":[{"embedding":0,"extra":{"k" : null},"index":0,"object":"embedding"},"#,
            r#"{"index":1,"embedding":0,"z":true,"a":1e2}],"model":"text-embedding-3-large","object":"list","usage":{"total_tokens": 8, "prompt_tokens": 8},"#,
            r#""unicode":"héllo \ud83d\ude00","big":123456789012345678901234567890,"alpha":-0.0}"#
        )
    );
    check_json(body, &d);
}

#[test]
fn escaped_keys_are_matched_and_reescaped() {
    let body = r#"{"d\u0061ta":[{"emb\u0065dding":[1.5],"q\"k":1}],"model":"m"}"#;
    let d = decode(body);
    assert_eq!(d.values, vec![1.5]);
    assert_eq!(d.json, r#"{"data":[{"embedding":0,"q\"k":1}],"model":"m"}"#);
    check_json(body, &d);
}

#[test]
fn numbers_match_json_parse() {
    // (text, the double JavaScript's JSON.parse gives)
    let cases: &[(&str, f64)] = &[
        ("0.1", 0.1),
        ("-1.2345678901234567e-5", -1.2345678901234567e-5),
        ("5e-324", 5e-324),
        ("4.9406564584124654e-324", 5e-324),
        ("2.2250738585072011e-308", f64::from_bits(0x000f_ffff_ffff_ffff)), // PHP's and Java's old hang
        ("2.2250738585072014e-308", f64::MIN_POSITIVE),
        ("1.7976931348623157e308", f64::MAX),
        ("-1.7976931348623157e308", f64::MIN),
        ("0.30000000000000004", 0.30000000000000004),
        ("-0.012345678918063641", -0.012345678918063641),
        ("0", 0.0),
        ("1", 1.0),
        ("-1", -1.0),
        ("1E2", 100.0),
        ("1e+2", 100.0),
        ("1.0e-7", 1.0e-7),
        ("9007199254740993", 9007199254740992.0),
        ("-9007199254740993", -9007199254740992.0),
        ("18446744073709551615", 18446744073709551615.0),
        ("18446744073709551617", 18446744073709551616.0),
        ("-9223372036854775809", -9223372036854775808.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("1e-400", 0.0),
        ("0.00000000000000000000000000000000000000000000000000001", 1e-53),
        // Exactly halfway between 1 and the next double: ties to even; a hair above: rounds up.
        ("1.00000000000000011102230246251565404236316680908203125", 1.0),
        ("1.000000000000000111022302462515654042363166809082031250000000000000000001", 1.0000000000000002),
    ];
    let text: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let body = format!(r#"{{"data":[{{"embedding":[{}]}}]}}"#, text.join(","));
    let d = decode(&body);
    let want: Vec<f64> = cases.iter().map(|c| c.1).collect();
    assert_eq!(bits(&d.values), bits(&want));

    // Negative zero keeps its sign, as in JSON.parse (Object.is(JSON.parse("-0"), -0)).
    let d = decode(r#"{"data":[{"embedding":[-0.0,-0,0,-1e-400]}]}"#);
    assert_eq!(bits(&d.values), bits(&[-0.0, -0.0, 0.0, -0.0]));
}

#[test]
fn empty_data() {
    let body = r#"{"object":"list","data":[],"model":"m","usage":{"prompt_tokens":0,"total_tokens":0}}"#;
    let d = decode(body);
    assert!(d.values.is_empty());
    assert_eq!(d.offsets, vec![0]);
    assert!(d.formats.is_empty());
    assert_eq!(d.count(), 0);
    assert_eq!(d.json, body);
    assert_eq!(decode(r#" { "data" : [ ] } "#).json, r#"{"data":[]}"#);
}

#[test]
fn many_keys_use_the_hash_set() {
    let keys: Vec<String> = (0..100).map(|i| format!(r#""k{i}":{i}"#)).collect();
    let body = format!(r#"{{{},"data":[{{{},"embedding":[1]}}]}}"#, keys.join(","), keys.join(","));
    let d = decode(&body);
    check_json(&body, &d);
    // The same with one repeated key, at the top level and in an item.
    let dup_top = format!(r#"{{{},"data":[],"k3":0}}"#, keys.join(","));
    assert!(decode_embeddings(dup_top.as_bytes()).is_err());
    let dup_item = format!(r#"{{"data":[{{{},"embedding":[1],"k99":0}}]}}"#, keys.join(","));
    assert!(decode_embeddings(dup_item.as_bytes()).is_err());
}

#[test]
fn errors() {
    let cases: &[&str] = &[
        // Invalid JSON.
        "",
        " ",
        "{",
        r#"{"data":[{"embedding":[1]}]"#,
        r#"{"data":[{"embedding":[1,]}]}"#,
        r#"{"data":[{"embedding":[1]}],}"#,
        r#"{"data":[{"embedding":[1]}]} x"#,
        r#"{"data":[{"embedding":[1]}]}{}"#,
        r#"{"data":[{"embedding":[01]}]}"#,
        r#"{"data":[{"embedding":[.5]}]}"#,
        r#"{"data":[{"embedding":[+1]}]}"#,
        r#"{"data":[{"embedding":[NaN]}]}"#,
        r#"{"data":[{"embedding":[1.]}]}"#,
        r#"{"data":[],"x":tru}"#,
        r#"{"data":[],"x":"\x"}"#,
        "{\"data\":[],\"x\":\"a\u{1}b\"}",
        "\u{feff}{\"data\":[]}",
        // Not an object.
        "[]",
        "null",
        "1",
        r#""data""#,
        // `data` missing or not an array.
        "{}",
        r#"{"object":"list","model":"m"}"#,
        r#"{"data":null}"#,
        r#"{"data":{}}"#,
        r#"{"data":"x"}"#,
        r#"{"data":1}"#,
        // An item not an object, or without `embedding`.
        r#"{"data":[1]}"#,
        r#"{"data":[[1]]}"#,
        r#"{"data":[null]}"#,
        r#"{"data":[{}]}"#,
        r#"{"data":[{"embedding":[1]},{"index":1}]}"#,
        // `embedding` neither a number array nor a string.
        r#"{"data":[{"embedding":null}]}"#,
        r#"{"data":[{"embedding":1}]}"#,
        r#"{"data":[{"embedding":true}]}"#,
        r#"{"data":[{"embedding":{}}]}"#,
        r#"{"data":[{"embedding":[[1]]}]}"#,
        r#"{"data":[{"embedding":[1,"2"]}]}"#,
        r#"{"data":[{"embedding":[1,null]}]}"#,
        r#"{"data":[{"embedding":[true]}]}"#,
        // Numbers out of f64 range (JSON.parse would give Infinity; leave that to JavaScript).
        r#"{"data":[{"embedding":[1e400]}]}"#,
        r#"{"data":[{"embedding":[-1.8e308]}]}"#,
        // Bad base64: invalid characters, missing padding, URL-safe alphabet, whitespace,
        // bytes not a multiple of 4.
        r#"{"data":[{"embedding":"AAAA*AAA"}]}"#,
        r#"{"data":[{"embedding":"AAAAAA"}]}"#,
        r#"{"data":[{"embedding":"AAAA"}]}"#,
        r#"{"data":[{"embedding":"AAAAAAA="}]}"#,
        r#"{"data":[{"embedding":"AAAAAAAA"}]}"#,
        r#"{"data":[{"embedding":"AAAAAAAAAA=="}]}"#,
        r#"{"data":[{"embedding":"AAAA AAA"}]}"#,
        r#"{"data":[{"embedding":"AAAA\nAAA"}]}"#,
        r#"{"data":[{"embedding":"-_-_-_-_"}]}"#,
        r#"{"data":[{"embedding":"===="}]}"#,
        // Duplicated keys.
        r#"{"data":[],"data":[]}"#,
        r#"{"data":[],"d\u0061ta":[]}"#,
        r#"{"model":"a","data":[],"model":"b"}"#,
        r#"{"data":[{"embedding":[1],"embedding":[2]}]}"#,
        r#"{"data":[{"embedding":[1],"index":0,"index":1}]}"#,
        r#"{"data":[{"index":0,"embedding":"AAAAAA==","index":1}]}"#,
    ];
    for body in cases {
        let r = std::panic::catch_unwind(|| decode_embeddings(body.as_bytes()));
        match r {
            Ok(Err(e)) => assert!(!e.to_string().is_empty()),
            Ok(Ok(d)) => panic!("decoded {body:?}: {d:?}"),
            Err(_) => panic!("panicked on {body:?}"),
        }
    }
    // Valid JSON text but not UTF-8 inside a string.
    let mut body = br#"{"data":[],"x":"ab"}"#.to_vec();
    body[17] = 0xff;
    assert!(decode_embeddings(&body).is_err());
    // A deeply nested unknown value is skipped without recursion (serde_json's `ignore_value`
    // keeps its own stack), so it is copied, not a stack overflow; unterminated, an error.
    let deep = format!(r#"{{"data":[],"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(decode_embeddings(deep.as_bytes()).unwrap().json, deep);
    let deep = format!(r#"{{"data":[{{"embedding":[1],"x":{}}}]}}"#, "{\"a\":".repeat(100_000));
    assert!(decode_embeddings(deep.as_bytes()).is_err());
}

#[test]
fn error_message_says_what_and_where() {
    let e = decode_embeddings(br#"{"data":[{"embedding":[1],"embedding":[2]}]}"#).unwrap_err();
    assert!(e.to_string().contains("duplicate key \"embedding\""), "{e}");
    let e = decode_embeddings(br#"{"data":[{"index":0}]}"#).unwrap_err();
    assert!(e.to_string().contains("missing field `embedding`"), "{e}");
    let e = decode_embeddings(br#"{"data":[{"embedding":"AAAAAAAA"}]}"#).unwrap_err();
    assert!(e.to_string().contains("not a multiple of 4"), "{e}");
    let e = decode_embeddings(b"{\"data\":\n[1]}").unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
}

#[test]
fn full_size_body() {
    // 100 vectors × 1536, both formats, to exercise the capacity estimates.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        ((rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
    };
    let vectors: Vec<Vec<f32>> = (0..100).map(|_| (0..1536).map(|_| next()).collect()).collect();
    let float_items: Vec<String> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let nums: Vec<String> = v.iter().map(|&x| (x as f64).to_string()).collect();
            format!(r#"{{"object":"embedding","index":{i},"embedding":[{}]}}"#, nums.join(","))
        })
        .collect();
    let b64_items: Vec<String> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| format!(r#"{{"object":"embedding","index":{i},"embedding":"{}"}}"#, base64_of(v)))
        .collect();
    let want: Vec<f64> = vectors.iter().flatten().map(|&x| x as f64).collect();
    for items in [float_items, b64_items] {
        let body = format!(r#"{{"object":"list","data":[{}],"model":"m"}}"#, items.join(","));
        let d = decode(&body);
        assert_eq!(bits(&d.values), bits(&want));
        assert_eq!(d.offsets.len(), 101);
        assert_eq!(d.offsets[100], 153_600);
        assert!(
            d.values.capacity() >= 153_600 && d.values.capacity() < 153_600 + 1000,
            "{}",
            d.values.capacity()
        );
        check_json(&body, &d);
    }
}

proptest! {
    #[test]
    fn float32_values_printed_by_rust_round_trip(
        vectors in proptest::collection::vec(
            proptest::collection::vec(any::<f32>().prop_filter("finite", |x| x.is_finite()), 0..40),
            0..6,
        )
    ) {
        let items: Vec<String> = vectors
            .iter()
            .map(|v| {
                let nums: Vec<String> = v.iter().map(|&x| format!("{}", x as f64)).collect();
                format!(r#"{{"embedding":[{}],"object":"embedding"}}"#, nums.join(","))
            })
            .collect();
        let body = format!(r#"{{"data":[{}],"object":"list"}}"#, items.join(","));
        let d = decode_embeddings(body.as_bytes()).unwrap();
        let want: Vec<f64> = vectors.iter().flatten().map(|&x| x as f64).collect();
        prop_assert_eq!(bits(&d.values), bits(&want));
        let mut at = 0u32;
        prop_assert_eq!(d.offsets[0], 0);
        for (i, v) in vectors.iter().enumerate() {
            at += v.len() as u32;
            prop_assert_eq!(d.offsets[i + 1], at);
        }
        prop_assert_eq!(d.offsets.len(), vectors.len() + 1);
    }

    #[test]
    fn base64_float32_values_round_trip(v in proptest::collection::vec(any::<f32>(), 0..64)) {
        let body = format!(r#"{{"data":[{{"embedding":"{}"}}]}}"#, base64_of(&v));
        let d = decode_embeddings(body.as_bytes()).unwrap();
        let want: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        prop_assert_eq!(bits(&d.values), bits(&want));
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_embeddings(&body);
    }

    #[test]
    fn mutated_bodies_never_panic(cut in 0usize..200, byte in any::<u8>()) {
        let mut body = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-2e-3,7]},{"embedding":"AACAPwAAAEA=","index":1}],"model":"m","usage":{"prompt_tokens":1}}"#.to_vec();
        let at = cut % body.len();
        body[at] = byte;
        if let Ok(d) = decode_embeddings(&body) {
            prop_assert_eq!(d.offsets.len(), d.formats.len() + 1);
            prop_assert!(serde_json::from_str::<Value>(&d.json).is_ok());
        }
    }
}

#[test]
fn another_field_name_is_decoded_and_the_default_one_is_kept_as_is() {
    let body = r#"{"data":[{"vec":[1.5,-2],"embedding":"kept"},{"vec":"AACAPw=="}],"n":1}"#;
    let d = decode_float_vectors(body.as_bytes(), "vec").unwrap();
    assert_eq!(d.values, vec![1.5, -2.0, 1.0]);
    assert_eq!(d.offsets, vec![0, 2, 3]);
    assert_eq!(d.formats, vec![EmbeddingFormat::Float, EmbeddingFormat::Base64]);
    assert_eq!(d.json, r#"{"data":[{"vec":0,"embedding":"kept"},{"vec":0}],"n":1}"#);
    let err = decode_float_vectors(br#"{"data":[{"embedding":[1]}]}"#, "vec").unwrap_err();
    assert!(err.to_string().contains("missing field `vec`"), "{err}");
}
