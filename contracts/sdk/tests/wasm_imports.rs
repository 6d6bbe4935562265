//! Builds the example contracts for `wasm32-unknown-unknown` and checks the modules against
//! docs/spec/contracts.md: imports only from `"meridian"` with the §6 names and signatures,
//! the required exports (§4), validation under the §4 feature set (the VM's wasmi config),
//! and the 512 KiB size limit.
//!
//! The modules come from `meridian_wasm_build::example` — the same build `meridian contract
//! build` and the chain-level tests use (a nested cargo in its own target directory).

use wasmparser::{
    ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

/// Spec §6: every import a contract may declare.
const HOST_IMPORTS: &[(&str, &[ValType], &[ValType])] = {
    use ValType::{I32, I64};
    &[
        ("input_len", &[], &[I32]),
        ("input_read", &[I32], &[]),
        ("set_return", &[I32, I32], &[]),
        ("set_error", &[I32, I32, I32, I32], &[]),
        ("buffer_read", &[I32], &[]),
        ("buffer_len", &[], &[I32]),
        ("env", &[], &[I32]),
        ("storage_get", &[I32, I32], &[I32]),
        ("storage_set", &[I32, I32, I32, I32], &[]),
        ("storage_remove", &[I32, I32], &[]),
        ("storage_range", &[I32, I32, I32, I32, I32, I32], &[I32]),
        ("emit_event", &[I32, I32, I32, I32], &[]),
        ("hash", &[I32, I32, I32], &[]),
        ("verify_signature", &[I32, I32, I32, I32, I32, I32], &[I32]),
        ("call_contract", &[I32, I32, I32, I32, I64], &[I32]),
        ("bank_transfer", &[I32, I32, I32, I32], &[I32]),
        ("bank_balance", &[I32, I32, I32, I32], &[]),
        ("notary_get", &[I32], &[I32]),
        (
            "interop_send",
            &[I32, I32, I32, I32, I32, I32, I64, I64],
            &[I32],
        ),
        ("abort", &[I32, I32], &[]),
    ]
};

/// Spec §4: MVP + mutable-globals + sign-extension + bulk-memory + multi-value + saturating
/// float-to-int + reference types (+ floats); no SIMD, threads, tail calls, memory64, …
fn spec_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
}

struct Module {
    imports: Vec<(String, String, FuncType)>,
    exports: Vec<(String, ExternalKind)>,
    memories: usize,
}

fn inspect(code: &[u8]) -> Module {
    let mut types: Vec<FuncType> = Vec::new();
    let mut m = Module {
        imports: Vec::new(),
        exports: Vec::new(),
        memories: 0,
    };
    for payload in Parser::new(0).parse_all(code) {
        match payload.expect("parse") {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    types.push(ty.expect("func type"));
                }
            }
            Payload::ImportSection(r) => {
                for imp in r {
                    let imp = imp.expect("import");
                    let TypeRef::Func(idx) = imp.ty else {
                        panic!("non-function import {}.{}", imp.module, imp.name);
                    };
                    let ty = types[idx as usize].clone();
                    m.imports
                        .push((imp.module.to_string(), imp.name.to_string(), ty));
                }
            }
            Payload::MemorySection(r) => m.memories += r.count() as usize,
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.expect("export");
                    m.exports.push((e.name.to_string(), e.kind));
                }
            }
            _ => {}
        }
    }
    m
}

#[test]
fn example_contracts_fit_the_abi() {
    // Every example exports instantiate, execute and query; the counter also migrate and
    // interop_ack (it makes cross-chain calls).
    for &package in meridian_wasm_build::EXAMPLES {
        let entries: &[&str] = if package == "contract-counter" {
            &["instantiate", "execute", "query", "migrate", "interop_ack"]
        } else {
            &["instantiate", "execute", "query"]
        };
        let code = meridian_wasm_build::example(package);
        eprintln!("{package}: {} bytes", code.len());
        assert!(code.len() <= 512 * 1024, "{package}: module over 512 KiB");

        Validator::new_with_features(spec_features())
            .validate_all(&code)
            .unwrap_or_else(|e| panic!("{package}: not valid under the spec's features: {e}"));

        let m = inspect(&code);
        assert!(!m.imports.is_empty(), "{package}: no imports?");
        for (module, name, ty) in &m.imports {
            assert_eq!(module, "meridian", "{package}: import {module}.{name}");
            let (_, params, results) = HOST_IMPORTS
                .iter()
                .find(|(n, _, _)| n == name)
                .unwrap_or_else(|| panic!("{package}: unknown import {name}"));
            assert_eq!(
                (ty.params(), ty.results()),
                (*params, *results),
                "{package}: signature of {name}"
            );
        }
        // Status-returning calls leave a buffer of unreported length: the SDK asks buffer_len.
        let imports = |name: &str| m.imports.iter().any(|(_, n, _)| n == name);
        if imports("call_contract") || imports("bank_transfer") || imports("interop_send") {
            assert!(
                imports("buffer_len"),
                "{package}: reads call results without buffer_len"
            );
        }
        assert_eq!(m.memories, 1, "{package}: one memory");
        assert!(
            m.exports
                .iter()
                .any(|(n, k)| n == "memory" && *k == ExternalKind::Memory),
            "{package}: exports memory"
        );
        for entry in entries {
            assert!(
                m.exports
                    .iter()
                    .any(|(n, k)| n == entry && *k == ExternalKind::Func),
                "{package}: exports {entry}"
            );
        }
        // Nothing else is exported as a function but the entry points.
        for (n, k) in &m.exports {
            if *k == ExternalKind::Func {
                assert!(entries.contains(&n.as_str()), "{package}: stray export {n}");
            }
        }
    }
}
