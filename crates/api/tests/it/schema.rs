//! A small validator for the subset of OpenAPI 3.0 schemas the document uses ($ref, object
//! with required / additionalProperties, allOf, array, string with pattern, integer, boolean,
//! nullable, enum), so every response the tests see is checked against the published document.

use serde_json::Value;

fn pattern_ok(pattern: &str, s: &str) -> bool {
    // The document uses a handful of anchored patterns; check them structurally.
    let is_hex = |t: &str| t.bytes().all(|b| b.is_ascii_hexdigit());
    let lower_hex = |t: &str| t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match pattern {
        "^([0-9a-f]{2})*$" => s.len().is_multiple_of(2) && lower_hex(s),
        "^[0-9a-f]{64}$" => s.len() == 64 && lower_hex(s),
        "^0x[0-9a-f]{40}$" => s.len() == 42 && s.starts_with("0x") && lower_hex(&s[2..]),
        "^[0-9]+$" => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
        "^([0-9a-fA-F]{2})+$" => !s.is_empty() && s.len().is_multiple_of(2) && is_hex(s),
        other => panic!("validator does not know pattern {other}"),
    }
}

/// Checks `v` against `schema`; panics with the JSON path of the first mismatch.
pub fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        return validate(doc, &doc["components"]["schemas"][name], v, at);
    }
    if v.is_null() {
        assert!(
            schema.get("nullable") == Some(&Value::Bool(true)),
            "{at}: null but not nullable"
        );
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, v, at);
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        assert!(e.contains(v), "{at}: {v} not in {e:?}");
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let o = v
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object"));
            let empty = serde_json::Map::new();
            let props = schema["properties"].as_object().unwrap_or(&empty);
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                assert!(o.contains_key(r), "{at}: missing required {r}");
            }
            let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
            for (k, x) in o {
                match props.get(k) {
                    Some(s) => validate(doc, s, x, &format!("{at}.{k}")),
                    None => assert!(!closed, "{at}: undocumented property {k}"),
                }
            }
        }
        Some("array") => {
            let a = v.as_array().unwrap_or_else(|| panic!("{at}: not an array"));
            for (i, x) in a.iter().enumerate() {
                validate(doc, &schema["items"], x, &format!("{at}[{i}]"));
            }
        }
        Some("string") => {
            let s = v.as_str().unwrap_or_else(|| panic!("{at}: not a string"));
            if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
                assert!(pattern_ok(p, s), "{at}: {s:?} does not match {p}");
            }
        }
        Some("integer") => {
            assert!(
                v.as_u64().is_some(),
                "{at}: {v} is not a non-negative integer"
            )
        }
        Some("boolean") => assert!(v.is_boolean(), "{at}: not a boolean"),
        Some(other) => panic!("{at}: validator does not know type {other}"),
        None => {}
    }
}

/// Checks `v` against component schema `name` of `doc`.
pub fn check(doc: &Value, name: &str, v: &Value) {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    validate(doc, s, v, name);
}
