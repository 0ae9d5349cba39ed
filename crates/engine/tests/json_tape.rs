//! The tape layout JS relies on (src/core/tape.ts replays it; __test__/tape.test.ts checks the
//! replayed values against JSON.parse through the addon).
use aiwire_engine::json_tape::*;

fn encode_all(events: &[&str]) -> Tape {
    let mut enc = TapeEncoder::new();
    let mut tape = Tape::default();
    for e in events {
        enc.encode(e, &mut tape);
    }
    tape
}

#[test]
fn a_shape_is_defined_once_and_short_strings_are_interned_on_their_second_sighting() {
    let tape = encode_all(&[r#"{"a":1,"b":"x"}"#, r#"{"a":2,"b":"x"}"#, r#"{"a":3,"b":"x"}"#]);
    assert_eq!(tape.count, 3);
    // "x" is text[0..1]; the shape's keys follow ("a" 1..2, "b" 2..3); "x" again when interned.
    assert_eq!(tape.text, "xabx");
    assert_eq!(tape.defs, vec![0, 2, 1, 2, 2, 3]);
    #[rustfmt::skip]
    let expected = vec![
        OP_OBJ, 0, OP_INT, 1, OP_STR, 0, 1,      // first sighting: not kept
        OP_OBJ, 0, OP_INT, 2, OP_STR_KEEP, 3, 4, // second: into JS's table (index 0)
        OP_OBJ, 0, OP_INT, 3, OP_SREF, 0,
    ];
    assert_eq!(tape.ops, expected);
}

#[test]
fn a_raw_fallback_undoes_an_interning_made_in_that_event() {
    let tape = encode_all(&[r#"["p"]"#, r#"["p",tru"#, r#"["p"]"#, r#"["p"]"#]);
    #[rustfmt::skip]
    let expected = vec![
        OP_ARR, 1, OP_STR, 0, 1,       // seen once
        OP_RAW, 1, 9,                  // promoted inside, then undone
        OP_ARR, 1, OP_STR_KEEP, 9, 10, // so this is the second sighting: table index 0
        OP_ARR, 1, OP_SREF, 0,
    ];
    assert_eq!(tape.ops, expected);
}

#[test]
fn an_event_serde_refuses_becomes_raw_and_leaves_no_trace() {
    let mut enc = TapeEncoder::new();
    let mut tape = Tape::default();
    enc.encode(r#"{"k":"new1","bad":tru"#, &mut tape);
    assert_eq!(tape.ops, vec![OP_RAW, 0, 21]);
    assert!(tape.defs.is_empty());
    assert_eq!(tape.text, r#"{"k":"new1","bad":tru"#);
    // The shape was rolled back (JS never saw it): the next event defines it again. "new1" counts as
    // seen once, so that event interns it.
    enc.encode(r#"{"k":"new1"}"#, &mut tape);
    assert_eq!(&tape.ops[3..], &[OP_OBJ, 0, OP_STR_KEEP, 21, 25]);
    assert_eq!(tape.defs, vec![0, 1, 25, 26]);
    enc.encode(r#"{"k":"new1"}"#, &mut tape);
    assert_eq!(&tape.ops[8..], &[OP_OBJ, 0, OP_SREF, 0]);
    assert_eq!(tape.count, 3);
}

#[test]
fn positions_are_utf16_code_units() {
    let tape = encode_all(&[r#"["é😀","z"]"#]);
    assert_eq!(tape.ops, vec![OP_ARR, 2, OP_STR, 0, 3, OP_STR, 3, 4]);
    assert_eq!(tape.text_utf16, 4);
}

#[test]
fn numbers_keep_their_js_value() {
    let tape = encode_all(&["[4294967295,4294967296,-0,-1,0.1,9007199254740993]"]);
    assert_eq!(&tape.ops[..4], &[OP_ARR, 6, OP_INT, 4294967295]);
    assert_eq!(tape.nums.len(), 5);
    assert_eq!(tape.nums[0], 4294967296.0);
    assert!(tape.nums[1] == 0.0 && tape.nums[1].is_sign_negative());
    assert_eq!(tape.nums[2], -1.0);
    assert_eq!(tape.nums[3], 0.1);
    assert_eq!(tape.nums[4], 9007199254740992.0);
    // Out of f64 range: JSON.parse gives ±Infinity, and so does the tape.
    let tape = encode_all(&["[1e400,-1e400]"]);
    assert_eq!(tape.ops, vec![OP_ARR, 2, OP_NUM, 0, OP_NUM, 1]);
    assert_eq!(tape.nums, vec![f64::INFINITY, f64::NEG_INFINITY]);
}

#[test]
fn long_strings_are_never_interned() {
    // Up to 64 bytes (OpenAI's 38-byte `chatcmpl-…` ids) is short.
    let long = "y".repeat(65);
    let tape = encode_all(&[&format!("[\"{long}\",\"{long}\",\"{long}\"]")]);
    assert_eq!(tape.ops, vec![OP_ARR, 3, OP_STR, 0, 65, OP_STR, 65, 130, OP_STR, 130, 195]);
    let id = "chatcmpl-BENCHbXk2oQm1n9Yt0uJ7cZr4sVfA";
    let tape = encode_all(&[&format!("[\"{id}\",\"{id}\",\"{id}\"]")]);
    assert_eq!(tape.ops, vec![OP_ARR, 3, OP_STR, 0, 38, OP_STR_KEEP, 38, 76, OP_SREF, 0]);
}

// ---- Differential tests against serde_json ----------------------------------------------------------

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Replays a tape as src/core/tape.ts does, into serde_json values (one per event; `Err` for RAW).
fn replay(tape: &Tape) -> Vec<Result<Value, String>> {
    let units: Vec<u16> = tape.text.encode_utf16().collect();
    let text = |a: u32, b: u32| String::from_utf16(&units[a as usize..b as usize]).expect("whole chars");
    let mut shapes: Vec<Vec<String>> = Vec::new();
    let mut d = 0;
    while d < tape.defs.len() {
        let (id, n) = (tape.defs[d] as usize, tape.defs[d + 1] as usize);
        let keys = (0..n).map(|k| text(tape.defs[d + 2 + 2 * k], tape.defs[d + 3 + 2 * k])).collect();
        if shapes.len() <= id {
            shapes.resize(id + 1, Vec::new());
        }
        shapes[id] = keys;
        d += 2 + 2 * n;
    }
    struct R<'a> {
        ops: &'a [u32],
        nums: &'a [f64],
        pos: usize,
        strings: Vec<String>,
    }
    fn value(r: &mut R, shapes: &[Vec<String>], text: &dyn Fn(u32, u32) -> String) -> Result<Value, String> {
        let op = r.ops[r.pos];
        r.pos += 1;
        let mut arg = || {
            r.pos += 1;
            r.ops[r.pos - 1]
        };
        Ok(match op {
            OP_NULL => Value::Null,
            OP_TRUE => Value::Bool(true),
            OP_FALSE => Value::Bool(false),
            OP_INT => Value::from(arg()),
            OP_NUM => {
                let i = arg();
                Value::Number(Number::from_f64(r.nums[i as usize]).ok_or("non-finite")?)
            }
            OP_STR | OP_STR_KEEP => {
                let (a, b) = (arg(), arg());
                let s = text(a, b);
                if op == OP_STR_KEEP {
                    r.strings.push(s.clone());
                }
                Value::String(s)
            }
            OP_SREF => {
                let i = arg();
                Value::String(r.strings[i as usize].clone())
            }
            OP_ARR => {
                let n = arg();
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(value(r, shapes, text)?);
                }
                Value::Array(items)
            }
            OP_OBJ => {
                let id = arg();
                let mut map = Map::new();
                for k in &shapes[id as usize] {
                    let v = value(r, shapes, text)?;
                    map.insert(k.clone(), v); // a duplicate key keeps the last value, as JSON.parse
                }
                Value::Object(map)
            }
            OP_RAW => {
                let (a, b) = (arg(), arg());
                return Err(text(a, b));
            }
            other => panic!("unknown op {other}"),
        })
    }
    let mut r = R { ops: &tape.ops, nums: &tape.nums, pos: 0, strings: Vec::new() };
    (0..tape.count).map(|_| value(&mut r, &shapes, &text)).collect()
}

/// Numbers compared as JS sees them (every JSON number is an f64 there).
fn as_js(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(Number::from_f64(n.as_f64().expect("f64")).expect("finite")),
        Value::Array(a) => Value::Array(a.iter().map(as_js).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), as_js(v))).collect()),
        other => other.clone(),
    }
}

/// Encodes `events` with one encoder (so shapes, interning and the positional memo carry over) and
/// checks each against serde_json: the same value when serde_json reads it, `RAW` when it refuses.
fn check_against_serde(events: &[String]) -> Result<(), TestCaseError> {
    let mut enc = TapeEncoder::new();
    let mut tape = Tape::default();
    for e in events {
        enc.encode(e, &mut tape);
    }
    for (e, got) in events.iter().zip(replay(&tape)) {
        match (serde_json::from_str::<Value>(e), got) {
            (Ok(want), Ok(got)) => prop_assert_eq!(as_js(&want), as_js(&got), "event {}", e),
            // Beyond the f64 range JSON.parse gives ±Infinity, and so does the tape; serde_json refuses.
            (Err(why), Err(non_finite)) if non_finite == "non-finite" => {
                prop_assert!(why.to_string().starts_with("number out of range"), "{}: {}", e, why)
            }
            (Err(_), Err(raw)) => prop_assert_eq!(&raw, e),
            (Ok(_), Err(_)) => prop_assert!(false, "refused JSON serde_json reads: {}", e),
            (Err(why), Ok(got)) => {
                prop_assert!(false, "read {} as {} but serde_json refuses it: {}", e, got, why)
            }
        }
    }
    Ok(())
}

/// JSON values over a small vocabulary, so shapes and strings repeat across events as in a stream.
fn json_value() -> impl Strategy<Value = Value> {
    let key =
        prop::sample::select(vec!["id", "a", "b", "delta", "content", "é", "k\"q", "", "__proto__", "0"]);
    let string = prop_oneof![
        prop::sample::select(vec![
            "chatcmpl-BENCHbXk2oQm1n9Yt0uJ7cZr4sVfA",
            "x",
            "",
            " the",
            "tab\there",
            "ü😀",
            "\\"
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
        any::<String>(),
    ];
    let number = prop_oneof![
        any::<u32>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (-1000i32..1000, -30i32..30).prop_map(|(m, e)| Value::from(f64::from(m) * 10f64.powi(e))),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        string.prop_map(Value::String)
    ];
    leaf.prop_recursive(5, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Byte edits that keep the text UTF-8: replace, insert or delete one ASCII position.
fn mutate(text: &str, at: usize, edit: u8, byte: u8) -> String {
    let mut b = text.as_bytes().to_vec();
    let at = if b.is_empty() { 0 } else { at % b.len() };
    let ascii = b"{}[]\":,\\ 0123456789.eE+-tfnrul\t\n";
    let c = ascii[byte as usize % ascii.len()];
    match edit % 3 {
        0 if at < b.len() && b[at].is_ascii() => b[at] = c,
        1 => b.insert(at, c),
        _ if at < b.len() && b[at].is_ascii() => {
            b.remove(at);
        }
        _ => b.insert(at, c),
    }
    String::from_utf8(b).unwrap_or_else(|_| text.to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn reads_what_serde_json_reads(values in prop::collection::vec(json_value(), 1..8), pretty in any::<bool>()) {
        // Each value twice (the second time read by prediction), compact or with whitespace.
        let events: Vec<String> = values
            .iter()
            .flat_map(|v| {
                let t = if pretty { serde_json::to_string_pretty(v) } else { serde_json::to_string(v) };
                let t = t.expect("serialisable");
                [t.clone(), t]
            })
            .collect();
        check_against_serde(&events)?;
    }

    #[test]
    fn refuses_what_serde_json_refuses(value in json_value(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..3)) {
        let valid = serde_json::to_string(&value).expect("serialisable");
        let mut broken = valid.clone();
        for (at, edit, byte) in edits {
            broken = mutate(&broken, at, edit, byte);
        }
        // The valid text first, so the broken one is read against its prediction.
        check_against_serde(&[valid, broken])?;
    }
}

#[test]
fn escapes_and_numbers_at_the_edges() {
    let cases = [
        r#""\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r""#,
        r#"["\ud800"]"#,
        r#"["\udc00x"]"#,
        r#"["\ud800\u0041"]"#,
        r#""\x""#,
        "\"a\u{1}b\"",
        r#"[01]"#,
        r#"[-]"#,
        r#"[1.]"#,
        r#"[.5]"#,
        r#"[1e]"#,
        r#"[1e+]"#,
        r#"[-0.0e-0]"#,
        r#"[4294967295, 4294967296, 999999999, 1000000000, 18446744073709551616]"#,
        r#"[123456789012345678901234567890]"#,
        r#"[2.2250738585072011e-308, 5e-324, 1.7976931348623157e308]"#,
        r#"{"a":1,"a":2}"#,
        r#"{"a":1,}"#,
        r#"[1,]"#,
        r#"{"a" 1}"#,
        r#"{1:1}"#,
        " \t\n\r[ ] ",
        "[] x",
        "",
        "  ",
        "tru",
        "nul",
        "falsey",
        r#"{"k\u0041":1}"#,
    ];
    let events: Vec<String> = cases.iter().map(|s| s.to_string()).collect();
    check_against_serde(&events).unwrap();
    // Nesting: 128 levels are read, deeper goes as RAW (JSON.parse reads it in JS).
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let mut enc = TapeEncoder::new();
    let mut tape = Tape::default();
    enc.encode(&deep(128), &mut tape);
    enc.encode(&deep(129), &mut tape);
    let got = replay(&tape);
    assert!(got[0].is_ok());
    assert_eq!(got[1], Err(deep(129)));
}

#[test]
fn a_prediction_that_stops_matching_midway_gives_the_right_shape() {
    let events: Vec<String> = [
        r#"{"id":"c1","choices":[{"delta":{"content":"a"}}],"x":1}"#,
        r#"{"id":"c1","choices":[{"delta":{"content":"b"}}],"x":2}"#,
        r#"{"id":"c1","choices":[{"delta":{"role":"r"}}]}"#,
        r#"{"id":"c1","choices":[{"delta":{"content":"b","extra":true}}],"x":2,"y":3}"#,
        r#"{"id":"c1","choices":[]}"#,
        r#"{"id":"c1"}"#,
        r#"{"id":"c2","choices":[{"delta":{}}],"x":2}"#,
        r#"{"i":"c1","choices":[{"delta":{"content":"b"}}],"x":2}"#,
        r#"{"id":"c1","choices":[{"delta":{"content":"b"}}],"x":2}"#,
        r#"{"id":"c1" ,"choices" : [ {"delta": {"content":"b"}} ], "x":2}"#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    check_against_serde(&events).unwrap();
}
