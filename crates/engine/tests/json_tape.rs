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
    // Out of f64 range: serde_json refuses it, JSON.parse gives Infinity, so it travels as text.
    assert_eq!(encode_all(&["1e400"]).ops[0], OP_RAW);
}

#[test]
fn long_strings_are_never_interned() {
    let long = "y".repeat(33);
    let tape = encode_all(&[&format!("[\"{long}\",\"{long}\",\"{long}\"]")]);
    assert_eq!(tape.ops, vec![OP_ARR, 3, OP_STR, 0, 33, OP_STR, 33, 66, OP_STR, 66, 99]);
}
