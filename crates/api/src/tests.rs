//! Unit tests of the pieces that need no ledger.

use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use meridian_mempool::MempoolError;

use super::*;

#[test]
fn every_code_is_in_the_table_once() {
    let known = |c: &str| {
        ERROR_CODES
            .iter()
            .chain(ACCESS_CODES)
            .chain(CONTRACT_CODES)
            .any(|e| e.code == c)
    };
    for c in MempoolError::ALL_CODES {
        assert!(known(c), "{c} missing");
    }
    for r in routes() {
        for c in r.errors {
            assert!(known(c), "{c} of {} missing", r.id);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for e in ERROR_CODES {
        assert!(seen.insert(e.code), "{} twice", e.code);
        assert!((400..600).contains(&e.status));
        // caller mistakes are 4xx: only node faults and capacity limits are 5xx
        if e.status >= 500 {
            assert!(
                e.code == codes::INTERNAL
                    || e.code == codes::COMMIT_TIMEOUT
                    || e.code == codes::TOO_MANY_STREAMS
                    || e.code.starts_with("mempool."),
                "{}",
                e.code
            );
        }
    }
    assert_eq!(status_of("no.such_code"), StatusCode::INTERNAL_SERVER_ERROR);
    // Contract refusals are the caller's (or the contract's), never the node's: all 4xx, and
    // no code is in two tables.
    for e in CONTRACT_CODES {
        assert!((400..500).contains(&e.status), "{}", e.code);
        assert!(seen.insert(e.code), "{} twice", e.code);
    }
    for e in ACCESS_CODES {
        assert!(seen.insert(e.code), "{} twice", e.code);
    }
}

#[test]
fn contract_failures_are_never_500_but_corrupt_state_is() {
    let st = |code: &str| ApiError::contract_run(code, "m").status().as_u16();
    assert_eq!(st("contract.out_of_fuel"), 422);
    assert_eq!(st("contract.not_found"), 404);
    assert_eq!(st("contract.frozen"), 403);
    // a contract's own code, a host's code, a VM code a query cannot raise
    assert_eq!(st("counter.bad_msg"), 422);
    assert_eq!(st("bank.insufficient_funds"), 422);
    assert_eq!(st("contract.reentrancy"), 422);
    assert_eq!(st(meridian_contract::codes::CORRUPT), 500);
    assert_eq!(
        ApiError::contract_run(meridian_contract::codes::CORRUPT, "m").error_code(),
        codes::INTERNAL
    );
}

#[test]
fn query_results_are_json_or_hex() {
    assert_eq!(
        views::query_result(br#"{"count":7}"#),
        serde_json::json!({"count": 7})
    );
    assert_eq!(views::query_result(b"42"), serde_json::json!(42));
    assert_eq!(
        views::query_result(&[0xff, 0]),
        serde_json::json!({"hex": "ff00"})
    );
    assert_eq!(views::query_result(b""), serde_json::json!({"hex": ""}));
}

async fn body_json(r: axum::response::Response) -> serde_json::Value {
    let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    serde_json::from_slice(&b).unwrap()
}

/// The catch-all turns plain-text errors into JSON; these two codes cannot be provoked from
/// outside (every extractor is wrapped; storage does not fail on demand), so they are walked
/// here.
#[tokio::test]
async fn catch_all_makes_errors_json() {
    for (status, code) in [
        (StatusCode::BAD_REQUEST, codes::BAD_REQUEST),
        (StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL),
        (StatusCode::METHOD_NOT_ALLOWED, codes::METHOD_NOT_ALLOWED),
        (StatusCode::PAYLOAD_TOO_LARGE, codes::BODY_TOO_LARGE),
    ] {
        let r = Response::builder()
            .status(status)
            .header(header::ALLOW, "GET")
            .body(Body::from("plain text"))
            .unwrap();
        let out = error::json_errors(r).await;
        assert_eq!(out.status(), status);
        assert_eq!(out.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(out.headers()[header::ALLOW], "GET");
        let v = body_json(out).await;
        assert_eq!(v["code"], code);
        assert!(v["message"].as_str().is_some());
    }
    let v = body_json(ApiError::internal("disk on fire").into_response()).await;
    assert_eq!(v["code"], codes::INTERNAL);
    // success and JSON errors pass through untouched
    let ok = Response::builder().body(Body::from("x")).unwrap();
    assert_eq!(error::json_errors(ok).await.status(), StatusCode::OK);
}

#[test]
fn connected_peers_from_runtime_metrics() {
    let text = "# HELP node_network_tracker_directory_connected x\n\
                node_network_tracker_directory_connected{peer=\"02AB\"} 1700\n\
                node_network_tracker_directory_connected{peer=\"03cd\"} 1800\n\
                node_other{peer=\"ff\"} 1\n";
    let set = handlers::connected_keys(text);
    assert_eq!(set.len(), 2);
    assert!(set.contains("02ab") && set.contains("03cd"));
}

#[test]
fn openapi_lists_every_route_and_code() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.0.3");
    for r in routes() {
        let m = r.method.as_str().to_ascii_lowercase();
        let op = &doc["paths"][r.path][&m];
        assert_eq!(op["operationId"], r.id, "{} {}", r.method.as_str(), r.path);
        // every path parameter in the template is documented
        for seg in r.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let params = op["parameters"].as_array().unwrap();
                assert!(params
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path"));
            }
        }
        if let Resp::Json(s) = r.response {
            assert!(doc["components"]["schemas"][s].is_object(), "schema {s}");
        }
    }
    // every $ref resolves
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "{r}");
    }
    assert_eq!(
        doc["x-error-codes"].as_array().unwrap().len(),
        ERROR_CODES.len() + ACCESS_CODES.len() + CONTRACT_CODES.len()
    );
}
