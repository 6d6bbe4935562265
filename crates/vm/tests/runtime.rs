//! Behaviour of the contract VM against spec docs/spec/contracts.md, with WAT contracts and the
//! in-memory host of `common`.

mod common;

use std::sync::Arc;

use common::*;
use meridian_vm::{codes, fuel, Entry, Vm, VmError, VmLimits};

const FUEL: u64 = 10_000_000;

/// Counter: `execute` increments a u64 under "count", emits `incremented`, stores its input
/// under "input" and the encoded Env under "env", returns the new count; `query` returns it.
fn counter() -> Vec<u8> {
    contract(
        r#"
  (data (i32.const 0) "count")
  (data (i32.const 16) "incremented")
  (data (i32.const 32) "input")
  (data (i32.const 48) "env")
  (func (export "execute") (result i32)
    (local $len i32)
    (if (i32.eq (call $storage_get (i32.const 0) (i32.const 5)) (i32.const 8))
      (then (call $buffer_read (i32.const 64))))
    (i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (i64.const 1)))
    (call $storage_set (i32.const 0) (i32.const 5) (i32.const 64) (i32.const 8))
    (call $emit_event (i32.const 16) (i32.const 11) (i32.const 64) (i32.const 8))
    (local.set $len (call $input_len))
    (call $input_read (i32.const 1024))
    (call $storage_set (i32.const 32) (i32.const 5) (i32.const 1024) (local.get $len))
    (local.set $len (call $env))
    (call $buffer_read (i32.const 2048))
    (call $storage_set (i32.const 48) (i32.const 3) (i32.const 2048) (local.get $len))
    (call $set_return (i32.const 64) (i32.const 8))
    (i32.const 0))
  (func (export "query") (result i32)
    (drop (call $storage_get (i32.const 0) (i32.const 5)))
    (call $buffer_read (i32.const 64))
    (call $set_return (i32.const 64) (i32.const 8))
    (i32.const 0))
"#,
    )
}

#[test]
fn vm_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vm>();
}

#[test]
fn counter_happy_path() {
    let vm = Vm::default();
    let info = vm.validate(&counter()).unwrap();
    assert!(info.execute && info.query && !info.instantiate && !info.migrate);
    assert_eq!(info.memory_pages, 1);

    let mut w = World::default();
    w.deploy("counter", counter(), false);
    let first = w.run(&vm, "counter", Entry::Execute, b"hello", FUEL);
    assert_eq!(first.result, Ok(1u64.to_le_bytes().to_vec()));
    assert!(first.fuel_used > 0 && first.fuel_used < FUEL);
    let second = w.run(&vm, "counter", Entry::Execute, b"again", FUEL);
    assert_eq!(second.result, Ok(2u64.to_le_bytes().to_vec()));

    assert_eq!(
        w.get("counter", b"count"),
        Some(&2u64.to_le_bytes().to_vec())
    );
    assert_eq!(w.get("counter", b"input"), Some(&b"again".to_vec()));
    let env = env_for("counter", SIGNER, false);
    assert_eq!(w.get("counter", b"env"), Some(&env.encode()));
    assert_eq!(
        w.events,
        vec![
            (
                "counter".into(),
                "incremented".into(),
                1u64.to_le_bytes().to_vec()
            ),
            (
                "counter".into(),
                "incremented".into(),
                2u64.to_le_bytes().to_vec()
            ),
        ]
    );
    let q = w.run(&vm, "counter", Entry::Query, b"", FUEL);
    assert_eq!(q.result, Ok(2u64.to_le_bytes().to_vec()));

    // Entry points the module does not export are bad code, and nothing runs.
    let missing = w.run(&vm, "counter", Entry::Migrate, b"", FUEL);
    assert!(matches!(err(&missing), VmError::BadCode(_)));
    assert_eq!(missing.fuel_used, 0);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy(
        "loop",
        contract(r#"(func (export "execute") (result i32) (loop $l (br $l)) (i32.const 0))"#),
        false,
    );
    let out = w.run(&vm, "loop", Entry::Execute, b"", 1_000_000);
    assert_eq!(err(&out), &VmError::OutOfFuel);
    assert_eq!(err(&out).code(), codes::OUT_OF_FUEL);
    assert_eq!(out.fuel_used, 1_000_000);
    assert!(w.storage.is_empty() && w.events.is_empty());
}

#[test]
fn host_fuel_is_charged_before_the_work() {
    let vm = Vm::default();
    let mut w = World::default();
    // storage_set of a 5-byte key and 1000-byte value: 1000 + 10 * 1005 = 11_050 (+ base).
    w.deploy(
        "writer",
        contract(
            r#"(func (export "execute") (result i32)
                 (call $storage_set (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 1000))
                 (i32.const 0))"#,
        ),
        false,
    );
    let full = w.run(&vm, "writer", Entry::Execute, b"", FUEL);
    assert!(full.result.is_ok());
    w.storage.clear();
    // 5000 short: the shortfall is far more than the wasm around the call costs, so the charge
    // itself must fail, and it must fail before the host writes.
    let short = w.run(&vm, "writer", Entry::Execute, b"", full.fuel_used - 5_000);
    assert_eq!(err(&short), &VmError::OutOfFuel);
    assert_eq!(short.fuel_used, full.fuel_used - 5_000);
    assert!(w.storage.is_empty(), "host wrote although fuel ran out");
}

#[test]
fn memory_growth_is_capped() {
    let vm = Vm::default();
    let mut w = World::default();
    // Growing to 301 pages would succeed without the cap; with it, grow returns -1 and the
    // contract traps on `unreachable`.
    w.deploy(
        "bomb",
        contract(
            r#"(func (export "execute") (result i32)
                 (if (i32.eq (memory.grow (i32.const 300)) (i32.const -1)) (then unreachable))
                 (i32.const 0))"#,
        ),
        false,
    );
    let out = w.run(&vm, "bomb", Entry::Execute, b"", FUEL);
    assert!(
        matches!(err(&out), VmError::Trap(m) if m.contains("unreachable")),
        "{out:?}"
    );
    assert!(w.storage.is_empty());

    // Page-by-page growth stops exactly at 256 pages (16 MiB), even with a larger declared max.
    w.deploy(
        "grower",
        contract_with_memory(
            r#"(memory (export "memory") 1 1000)"#,
            r#"(func (export "execute") (result i32)
                 (block $done (loop $l
                   (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                   (br $l)))
                 (i32.store (i32.const 0) (memory.size))
                 (call $set_return (i32.const 0) (i32.const 4))
                 (i32.const 0))"#,
        ),
        false,
    );
    let out = w.run(&vm, "grower", Entry::Execute, b"", FUEL);
    assert_eq!(out.result, Ok(256u32.to_le_bytes().to_vec()));

    // A module declaring more than the cap up front is refused at validation.
    let big = contract_with_memory(r#"(memory (export "memory") 257)"#, "");
    assert!(matches!(vm.validate(&big), Err(VmError::MemoryLimit(_))));
    let table = contract(r#"(table 5000 funcref)"#);
    assert!(matches!(vm.validate(&table), Err(VmError::MemoryLimit(_))));
    assert!(vm.validate(&contract(r#"(table 4096 funcref)"#)).is_ok());
}

#[test]
fn deep_recursion_overflows_the_stack() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy(
        "rec",
        contract(
            r#"(func $rec (param $n i32)
                 (if (local.get $n) (then (call $rec (i32.sub (local.get $n) (i32.const 1))))))
               (func $inf (call $inf))
               (func (export "execute") (result i32)
                 (call $input_read (i32.const 0))
                 (call $rec (i32.load (i32.const 0)))
                 (i32.const 0))
               (func (export "migrate") (result i32) (call $inf) (i32.const 0))"#,
        ),
        false,
    );
    let ok = w.run(&vm, "rec", Entry::Execute, &100u32.to_le_bytes(), FUEL);
    assert_eq!(ok.result, Ok(vec![]));
    // 300 frames: fine under wasmi's default limit (1000), refused under the spec's 256.
    let deep = w.run(&vm, "rec", Entry::Execute, &300u32.to_le_bytes(), FUEL);
    assert_eq!(err(&deep), &VmError::StackOverflow);
    assert_eq!(err(&deep).code(), codes::STACK_OVERFLOW);
    let inf = w.run(&vm, "rec", Entry::Migrate, b"", FUEL);
    assert_eq!(err(&inf), &VmError::StackOverflow);
    assert!(inf.fuel_used < FUEL);
}

#[test]
fn return_and_error_data_are_bounded() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy(
        "big",
        contract_with_memory(
            r#"(memory (export "memory") 3)"#,
            r#"(func (export "execute") (result i32)
                 (call $input_read (i32.const 0))
                 (call $set_return (i32.const 0) (i32.load (i32.const 0)))
                 (i32.const 0))
               (func (export "query") (result i32)
                 (call $input_read (i32.const 0))
                 (call $set_error (i32.const 0) (i32.const 1) (i32.const 8) (i32.load (i32.const 0)))
                 (i32.const 1))"#,
        ),
        false,
    );
    let at_limit = w.run(&vm, "big", Entry::Execute, &65_536u32.to_le_bytes(), FUEL);
    assert_eq!(at_limit.result.as_ref().map(Vec::len), Ok(65_536));
    let over = w.run(&vm, "big", Entry::Execute, &65_537u32.to_le_bytes(), FUEL);
    assert!(matches!(
        err(&over),
        VmError::ReturnTooLarge { len: 65_537, .. }
    ));
    assert_eq!(err(&over).code(), codes::RETURN_TOO_LARGE);
    // Error code (1 byte) + message: 65_536 bytes in total is too much.
    let err_over = w.run(&vm, "big", Entry::Query, &65_536u32.to_le_bytes(), FUEL);
    assert!(matches!(err(&err_over), VmError::ReturnTooLarge { .. }));
}

/// Calls storage_set with the four i32 of the input as (key_ptr, key_len, val_ptr, val_len).
fn pointer_probe() -> Vec<u8> {
    contract(
        r#"(func $arg (param $i i32) (result i32) (i32.load (i32.mul (local.get $i) (i32.const 4))))
           (func (export "execute") (result i32)
             (local $op i32)
             (call $input_read (i32.const 0))
             (local.set $op (i32.load (i32.const 0)))
             (if (i32.eqz (local.get $op)) (then
               (call $storage_set (call $arg (i32.const 1)) (call $arg (i32.const 2))
                                  (call $arg (i32.const 3)) (call $arg (i32.const 4)))))
             (if (i32.eq (local.get $op) (i32.const 1)) (then
               (call $input_read (call $arg (i32.const 1)))))
             (if (i32.eq (local.get $op) (i32.const 2)) (then
               (call $hash (call $arg (i32.const 1)) (call $arg (i32.const 2)) (call $arg (i32.const 3)))))
             (if (i32.eq (local.get $op) (i32.const 3)) (then
               (call $set_return (call $arg (i32.const 1)) (call $arg (i32.const 2)))))
             (if (i32.eq (local.get $op) (i32.const 4)) (then
               (call $emit_event (call $arg (i32.const 1)) (call $arg (i32.const 2))
                                 (call $arg (i32.const 3)) (call $arg (i32.const 4)))))
             (if (i32.eq (local.get $op) (i32.const 5)) (then
               (drop (call $env))
               (call $buffer_read (call $arg (i32.const 1)))))
             (if (i32.eq (local.get $op) (i32.const 6)) (then
               (drop (call $storage_get (call $arg (i32.const 1)) (call $arg (i32.const 2))))))
             (if (i32.eq (local.get $op) (i32.const 7)) (then
               (drop (call $notary_get (call $arg (i32.const 1))))))
             (if (i32.eq (local.get $op) (i32.const 8)) (then
               (drop (call $call_contract (call $arg (i32.const 1)) (call $arg (i32.const 2))
                                          (i32.const 0) (i32.const 0) (i64.const 0)))))
             (if (i32.eq (local.get $op) (i32.const 9)) (then
               (call $abort (call $arg (i32.const 1)) (call $arg (i32.const 2)))))
             (i32.const 0))"#,
    )
}

fn probe_input(args: &[i32]) -> Vec<u8> {
    args.iter().flat_map(|a| a.to_le_bytes()).collect()
}

#[test]
fn bad_pointers_fail_cleanly() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy("probe", pointer_probe(), false);
    const MEM: i32 = 65_536;

    // Control: a valid write goes through.
    let ok = w.run(
        &vm,
        "probe",
        Entry::Execute,
        &probe_input(&[0, 100, 1, 100, 1]),
        FUEL,
    );
    assert_eq!(ok.result, Ok(vec![]));
    assert_eq!(w.storage.len(), 1);
    w.storage.clear();

    let cases: &[&[i32]] = &[
        &[0, -1, 1, 0, 1],              // negative key pointer
        &[0, 0, -1, 0, 1],              // negative key length
        &[0, MEM, 1, 0, 1],             // key starts at the end of memory
        &[0, 0, 1, MEM - 1, 2],         // value runs one byte past memory
        &[0, 0, 1, i32::MIN, 4],        // very negative value pointer
        &[0, i32::MAX, i32::MAX, 0, 1], // ptr + len overflows i32
        &[1, MEM - 4],                  // input (8 bytes) copied past the end
        &[2, 0, 4, MEM - 16],           // hash output (32 bytes) past the end
        &[2, -4, 4, 0],                 // hash input negative
        &[3, 0, -1],                    // set_return negative length
        &[4, 0, 3, MEM, 1],             // event data out of memory
        &[5, MEM - 10],                 // buffer_read of the Env past the end
        &[6, MEM + 1, 0],               // storage_get key beyond memory
        &[7, MEM - 31],                 // notary_get hash (32 bytes) past the end
        &[8, -1, 2],                    // call_contract name pointer negative
        &[9, MEM, 1],                   // abort message out of memory
    ];
    for args in cases {
        let out = w.run(&vm, "probe", Entry::Execute, &probe_input(args), FUEL);
        assert!(
            matches!(err(&out), VmError::BadPointer(_)),
            "{args:?}: {out:?}"
        );
        assert_eq!(err(&out).code(), codes::BAD_POINTER);
        assert!(
            w.storage.is_empty() && w.events.is_empty(),
            "{args:?} wrote"
        );
    }
}

#[test]
fn oversized_module_is_refused_before_parsing() {
    let vm = Vm::default();
    let limit = VmLimits::default().max_code_size;
    assert_eq!(limit, 512 * 1024);
    // Garbage: if the size were not checked first this would be bad_code.
    let huge = vec![0u8; limit + 1];
    assert_eq!(
        vm.validate(&huge),
        Err(VmError::CodeTooLarge {
            size: limit + 1,
            limit
        })
    );
    assert!(matches!(
        vm.validate(&huge[..limit]),
        Err(VmError::BadCode(_))
    ));
    let mut w = World::default();
    let out = vm.run(fake_hash(&huge), &huge, Entry::Execute, b"", FUEL, &mut w);
    assert_eq!(err(&out).code(), codes::CODE_TOO_LARGE);
    assert_eq!(out.fuel_used, 0);
    assert_eq!(vm.compilations(), 0);
}

#[test]
fn forbidden_imports_and_bad_exports_are_bad_code() {
    let vm = Vm::default();
    let entry = r#"(func (export "execute") (result i32) (i32.const 0))"#;
    let cases = [
        // import from another module
        wat(&format!(
            r#"(module (import "env" "random" (func (result i64))) (memory (export "memory") 1) {entry})"#
        )),
        // unknown name in the right module
        wat(&format!(
            r#"(module (import "meridian" "random" (func (result i64))) (memory (export "memory") 1) {entry})"#
        )),
        // known name, wrong signature
        wat(&format!(
            r#"(module (import "meridian" "storage_get" (func (param i32) (result i32))) (memory (export "memory") 1) {entry})"#
        )),
        // imported memory
        wat(&format!(
            r#"(module (import "meridian" "memory" (memory 1)) {entry})"#
        )),
        // no memory export
        wat(&format!(r#"(module (memory 1) {entry})"#)),
        // memory exported under another name
        wat(&format!(r#"(module (memory (export "mem") 1) {entry})"#)),
        // memory exported twice
        wat(&format!(
            r#"(module (memory (export "memory") (export "other") 1) {entry})"#
        )),
        // entry point of the wrong type
        wat(
            r#"(module (memory (export "memory") 1) (func (export "execute") (param i32) (result i32) (i32.const 0)))"#,
        ),
        wat(r#"(module (memory (export "memory") 1) (func (export "query")))"#),
        // start function
        wat(&format!(
            r#"(module (memory (export "memory") 1) (func $s) (start $s) {entry})"#
        )),
        // non-MVP features the spec excludes: tail calls, SIMD
        wat(&format!(
            r#"(module (memory (export "memory") 1) (func $f (result i32) (return_call $f)) {entry})"#
        )),
        wat(&format!(
            r#"(module (memory (export "memory") 1) (func (drop (v128.const i32x4 0 0 0 0))) {entry})"#
        )),
        // not wasm at all
        b"\0asm garbage".to_vec(),
    ];
    for (i, code) in cases.iter().enumerate() {
        let got = vm.validate(code);
        assert!(matches!(got, Err(VmError::BadCode(_))), "case {i}: {got:?}");
    }
    // run refuses it too, without spending fuel.
    let mut w = World::default();
    let out = vm.run([1; 32], &cases[0], Entry::Execute, b"", FUEL, &mut w);
    assert_eq!(err(&out).code(), codes::BAD_CODE);
    assert_eq!(out.fuel_used, 0);
    // Features the spec allows do validate: sign-extension, bulk memory, multi-value, mutable
    // globals, floats.
    let allowed = contract(
        r#"(global $g (mut i32) (i32.const 0))
           (func $pair (result i32 i32) (i32.const 1) (i32.const 2))
           (func (export "execute") (result i32)
             (global.set $g (i32.extend8_s (i32.const 255)))
             (memory.fill (i32.const 0) (i32.const 7) (i32.const 16))
             (drop (f64.sqrt (f64.const 2)))
             (i32.add (call $pair)))"#,
    );
    assert!(vm.validate(&allowed).is_ok());
}

#[test]
fn nans_are_canonical() {
    let vm = Vm::default();
    let mut w = World::default();
    // Operands come from memory so nothing can be constant-folded at compile time. On x86 an
    // uncanonicalised 0/0 is the negative NaN 0xFFC00000 / 0xFFF8000000000000, and payloads of
    // signalling NaNs propagate.
    w.deploy(
        "nan",
        contract(
            r#"(data (i32.const 0) "\01\00\00\00\00\00\f0\7f")
               (data (i32.const 8) "\01\00\80\7f")
               (func (export "execute") (result i32)
                 (f32.store (i32.const 64) (f32.div (f32.load (i32.const 16)) (f32.load (i32.const 16))))
                 (f32.store (i32.const 68) (f32.add (f32.load (i32.const 8)) (f32.const 1)))
                 (f32.store (i32.const 72) (f32.sqrt (f32.sub (f32.load (i32.const 16)) (f32.const 1))))
                 (f32.store (i32.const 76) (f32.demote_f64 (f64.load (i32.const 0))))
                 (f64.store (i32.const 80) (f64.div (f64.load (i32.const 16)) (f64.load (i32.const 16))))
                 (f64.store (i32.const 88) (f64.add (f64.load (i32.const 0)) (f64.const 1)))
                 (f64.store (i32.const 96) (f64.sqrt (f64.sub (f64.load (i32.const 16)) (f64.const 1))))
                 (f64.store (i32.const 104) (f64.promote_f32 (f32.load (i32.const 8))))
                 (f64.store (i32.const 112) (f64.mul (f64.load (i32.const 0)) (f64.load (i32.const 16))))
                 (call $set_return (i32.const 64) (i32.const 56))
                 (i32.const 0))"#,
        ),
        false,
    );
    let mut want = Vec::new();
    for _ in 0..4 {
        want.extend_from_slice(&0x7FC0_0000u32.to_le_bytes());
    }
    for _ in 0..5 {
        want.extend_from_slice(&0x7FF8_0000_0000_0000u64.to_le_bytes());
    }
    for _ in 0..2 {
        let out = w.run(&vm, "nan", Entry::Execute, b"", FUEL);
        assert_eq!(out.result, Ok(want.clone()));
    }
}

/// Relay: input is a list of 2-byte contract names. Empty → returns "end" (64-byte result).
/// Otherwise calls the first name with the rest and returns the callee's 64-byte result, or on
/// a call error "ERR" followed by the CallError code.
fn relay() -> Vec<u8> {
    contract(
        r#"(data (i32.const 1024) "end")
           (data (i32.const 3069) "ERR")
           (func (export "execute") (result i32)
             (local $len i32)
             (local.set $len (call $input_len))
             (call $input_read (i32.const 0))
             (if (i32.eqz (local.get $len)) (then
               (call $set_return (i32.const 1024) (i32.const 64))
               (return (i32.const 0))))
             (if (i32.eqz (call $call_contract (i32.const 0) (i32.const 2) (i32.const 2)
                                               (i32.sub (local.get $len) (i32.const 2)) (i64.const 0)))
               (then
                 (call $buffer_read (i32.const 2048))
                 (call $set_return (i32.const 2048) (i32.const 64))
                 (return (i32.const 0))))
             (call $buffer_read (i32.const 4096))
             (memory.copy (i32.const 3072) (i32.const 4100) (i32.load (i32.const 4096)))
             (call $set_return (i32.const 3069) (i32.const 64))
             (i32.const 0))"#,
    )
}

fn relay_result(out: &meridian_vm::RunOutcome) -> String {
    let data = out.result.as_ref().expect("relay succeeds");
    assert_eq!(data.len(), 64);
    String::from_utf8(data.iter().copied().take_while(|b| *b != 0).collect()).unwrap()
}

#[test]
fn reentrancy_is_refused_unless_allowed() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy("ca", relay(), false);
    w.deploy("cb", relay(), false);
    // ca → cb → ca: cb sees the CallError.
    let out = w.run(&vm, "ca", Entry::Execute, b"cbca", FUEL);
    assert_eq!(relay_result(&out), "ERRcontract.reentrancy");
    // A plain nested call works.
    let out = w.run(&vm, "ca", Entry::Execute, b"cb", FUEL);
    assert_eq!(relay_result(&out), "end");
    // With allow_reentry, ca may be re-entered.
    w.deploy("ca", relay(), true);
    let out = w.run(&vm, "ca", Entry::Execute, b"cbca", FUEL);
    assert_eq!(relay_result(&out), "end");
}

#[test]
fn call_depth_is_limited_to_eight() {
    let vm = Vm::default();
    let mut w = World::default();
    for i in 0..10 {
        w.deploy(&format!("c{i}"), relay(), false);
    }
    let eight = w.run(&vm, "c0", Entry::Execute, b"c1c2c3c4c5c6c7c8", FUEL);
    assert_eq!(relay_result(&eight), "end");
    let nine = w.run(&vm, "c0", Entry::Execute, b"c1c2c3c4c5c6c7c8c9", FUEL);
    assert_eq!(relay_result(&nine), "ERRcontract.call_depth");
    // An unknown callee is a CallError too, not a trap.
    let missing = w.run(&vm, "c0", Entry::Execute, b"zz", FUEL);
    assert_eq!(relay_result(&missing), "ERRcontract.not_found");
}

#[test]
fn fuel_is_deterministic_across_runs_and_cache_state() {
    let fresh = |vm: &Vm| {
        let mut w = World::default();
        w.deploy("counter", counter(), false);
        w.run(vm, "counter", Entry::Execute, b"x", FUEL)
    };
    let vm = Vm::default();
    let first = fresh(&vm); // compiles
    let cached = fresh(&vm); // cache hit
    let other_vm = fresh(&Vm::default()); // compiles on another engine
    let uncached = fresh(&Vm::with_cache_capacity(VmLimits::default(), 0));
    assert_eq!(first, cached);
    assert_eq!(first, other_vm);
    assert_eq!(first, uncached);
    assert_eq!(vm.compilations(), 1);
}

/// Calls `func` (storage_set or emit_event, same signature) with a 5-byte key/kind at 0 and an
/// `n`-byte value/data at 100, and returns the fuel used.
fn fuel_of(vm: &Vm, func: &str, n: u32) -> u64 {
    let code = contract(&format!(
        r#"(data (i32.const 0) "kind_")
           (func (export "execute") (result i32)
             (call ${func} (i32.const 0) (i32.const 5) (i32.const 100) (i32.const {n}))
             (i32.const 0))"#
    ));
    let mut w = World::default();
    w.deploy("f", code, false);
    let out = w.run(vm, "f", Entry::Execute, b"", FUEL);
    assert!(out.result.is_ok(), "{out:?}");
    out.fuel_used
}

#[test]
fn host_fuel_follows_the_spec() {
    let vm = Vm::default();
    for n in [0u64, 10, 1000] {
        let set = fuel_of(&vm, "storage_set", n as u32);
        let event = fuel_of(&vm, "emit_event", n as u32);
        // The wasm around the call is identical; only the host cost differs.
        let set_cost = fuel::STORAGE_SET + fuel::STORAGE_SET_PER_BYTE * (5 + n);
        let event_cost = fuel::EMIT_EVENT + fuel::EMIT_EVENT_PER_BYTE * (5 + n);
        assert_eq!(set - event, set_cost - event_cost, "n = {n}");
        assert_eq!(set - fuel_of(&vm, "storage_set", 0), 10 * n);
        assert_eq!(event - fuel_of(&vm, "emit_event", 0), 2 * n);
    }
    assert_eq!(
        (fuel::STORAGE_SET, fuel::STORAGE_SET_PER_BYTE, fuel::BASE),
        (1_000, 10, 100)
    );
}

#[test]
fn nested_call_fuel_comes_from_the_caller() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy(
        "lp",
        contract(r#"(func (export "execute") (result i32) (loop $l (br $l)) (i32.const 0))"#),
        false,
    );
    // Calls "lp" with the i64 fuel of its input and returns the status.
    w.deploy(
        "caller",
        contract(
            r#"(data (i32.const 100) "lp")
               (func (export "execute") (result i32)
                 (call $input_read (i32.const 0))
                 (i32.store (i32.const 200)
                   (call $call_contract (i32.const 100) (i32.const 2) (i32.const 0) (i32.const 0)
                                        (i64.load (i32.const 0))))
                 (call $buffer_read (i32.const 300))
                 (call $set_return (i32.const 200) (i32.const 4))
                 (i32.const 0))"#,
        ),
        false,
    );
    let with =
        |fuel: i64, w: &mut World| w.run(&vm, "caller", Entry::Execute, &fuel.to_le_bytes(), FUEL);
    let a = with(1_000, &mut w);
    let b = with(2_000, &mut w);
    assert_eq!(
        a.result,
        Ok(1i32.to_le_bytes().to_vec()),
        "callee ran out: status 1"
    );
    assert_eq!(b.fuel_used - a.fuel_used, 1_000);
    // 0 = all remaining: the callee burns everything, then the caller runs out.
    let all = with(0, &mut w);
    assert_eq!(err(&all), &VmError::OutOfFuel);
    assert_eq!(all.fuel_used, FUEL);
}

#[test]
fn module_cache_avoids_recompiling() {
    let vm = Vm::with_cache_capacity(VmLimits::default(), 2);
    let mut w = World::default();
    w.deploy("counter", counter(), false);
    let a = w.run(&vm, "counter", Entry::Query, b"", FUEL);
    let b = w.run(&vm, "counter", Entry::Query, b"", FUEL);
    assert_eq!(a, b);
    assert_eq!((vm.compilations(), vm.cache_len()), (1, 1));

    // LRU: with capacity 2, a third module evicts the least recently used one.
    let codes: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            contract(&format!(
                r#"(func (export "execute") (result i32) (i32.const {i}) (drop) (i32.const 0))"#
            ))
        })
        .collect();
    for (i, code) in codes.iter().enumerate() {
        w.deploy(&format!("m{i}"), code.clone(), false);
    }
    let run = |w: &mut World, i: usize| {
        assert!(w
            .run(&vm, &format!("m{i}"), Entry::Execute, b"", FUEL)
            .result
            .is_ok())
    };
    run(&mut w, 0);
    run(&mut w, 1);
    run(&mut w, 0); // m0 most recent
    run(&mut w, 2); // evicts m1
    assert_eq!((vm.compilations(), vm.cache_len()), (4, 2));
    run(&mut w, 0);
    run(&mut w, 2);
    assert_eq!(vm.compilations(), 4);
    run(&mut w, 1);
    assert_eq!(vm.compilations(), 5);
}

#[test]
fn queries_are_read_only() {
    let vm = Vm::default();
    let mut w = World::default();
    let body = r#"(data (i32.const 0) "k")
       (func $write (result i32)
         (call $input_read (i32.const 16))
         (if (i32.eqz (i32.load (i32.const 16)))
           (then (call $storage_set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))))
         (if (i32.eq (i32.load (i32.const 16)) (i32.const 1))
           (then (call $emit_event (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))))
         (if (i32.eq (i32.load (i32.const 16)) (i32.const 2))
           (then (call $storage_remove (i32.const 0) (i32.const 1))))
         (if (i32.eq (i32.load (i32.const 16)) (i32.const 3))
           (then (drop (call $bank_transfer (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))))
         (if (i32.eq (i32.load (i32.const 16)) (i32.const 4))
           (then (drop (call $call_contract (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0) (i64.const 0)))))
         (i32.const 0))
       (func (export "execute") (result i32) (call $write))
       (func (export "query") (result i32) (call $write))"#;
    w.deploy("ro", contract(body), false);
    for op in 0u32..5 {
        let out = w.run(&vm, "ro", Entry::Query, &op.to_le_bytes(), FUEL);
        assert!(
            matches!(err(&out), VmError::ReadOnly(_)),
            "op {op}: {out:?}"
        );
        assert_eq!(err(&out).code(), codes::READ_ONLY);
        assert!(w.storage.is_empty() && w.events.is_empty());
    }
    // The same code may write through `execute`.
    assert!(w
        .run(&vm, "ro", Entry::Execute, &0u32.to_le_bytes(), FUEL)
        .result
        .is_ok());
    assert_eq!(w.get("ro", b"k"), Some(&b"k".to_vec()));
}

#[test]
fn contract_errors_and_traps() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy(
        "token",
        contract(
            r#"(data (i32.const 0) "not_owner")
               (data (i32.const 16) "Bad-Code")
               (data (i32.const 32) "you are not the owner")
               (data (i32.const 64) "boom")
               (func (export "execute") (result i32)
                 (call $input_read (i32.const 128))
                 (block $b (block $a (block $n (block $r (block $t (block $u
                   (br_table $n $b $a $r $t $u (i32.load (i32.const 128))))
                   unreachable) ;; 5
                   (return (i32.const 7))) ;; 4
                   (return (i32.const 1))) ;; 3: no error set
                   (call $set_error (i32.const 0) (i32.const 9) (i32.const 32) (i32.const 21))
                   (return (i32.const 1))) ;; 0
                   (call $abort (i32.const 64) (i32.const 4))
                   (return (i32.const 0))) ;; 2
                 (call $set_error (i32.const 16) (i32.const 8) (i32.const 32) (i32.const 3))
                 (i32.const 1))"#,
        ),
        false,
    );
    let run = |w: &mut World, op: u32| w.run(&vm, "token", Entry::Execute, &op.to_le_bytes(), FUEL);
    let typed = run(&mut w, 0);
    assert_eq!(
        err(&typed),
        &VmError::Contract {
            contract: "token".into(),
            code: "not_owner".into(),
            message: "you are not the owner".into()
        }
    );
    assert_eq!(err(&typed).code(), "token.not_owner");
    assert!(typed.fuel_used > 0);
    assert_eq!(err(&run(&mut w, 1)).code(), codes::BAD_ERROR); // invalid code
    let aborted = run(&mut w, 2);
    assert!(
        matches!(err(&aborted), VmError::Trap(m) if m.contains("boom")),
        "{aborted:?}"
    );
    assert_eq!(err(&run(&mut w, 3)).code(), codes::BAD_ERROR); // 1 without set_error
    assert_eq!(err(&run(&mut w, 4)).code(), codes::TRAP); // returned 7
    assert_eq!(err(&run(&mut w, 5)).code(), codes::TRAP); // unreachable
}

#[test]
fn host_errors_fail_the_run_except_transfers() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy("counter", counter(), false);
    w.broken_storage = true;
    let out = w.run(&vm, "counter", Entry::Execute, b"", FUEL);
    assert_eq!(err(&out).code(), "test.storage_broken");
    assert!(w.storage.is_empty());
    w.broken_storage = false;

    // bank_transfer errors come back as a CallError (status 1); success moves funds.
    w.deploy(
        "payer",
        contract(
            r#"(data (i32.const 100) "usd")
               (func (export "execute") (result i32)
                 (call $input_read (i32.const 0)) ;; 20-byte `to`, then 16-byte amount
                 (i32.store (i32.const 200)
                   (call $bank_transfer (i32.const 0) (i32.const 100) (i32.const 3) (i32.const 20)))
                 (call $buffer_read (i32.const 204))
                 (call $set_return (i32.const 200) (i32.const 64))
                 (i32.const 0))"#,
        ),
        false,
    );
    let to = [0x11u8; 20];
    let input = |amount: u128| [&to[..], &amount.to_be_bytes()].concat();
    let poor = w.run(&vm, "payer", Entry::Execute, &input(5), FUEL);
    let data = poor.result.unwrap();
    assert_eq!(data[..4], 1i32.to_le_bytes());
    assert_eq!(call_error_code(&data[4..]), "bank.insufficient_funds");

    w.balances.insert((address_of("payer"), "usd".into()), 10);
    let paid = w.run(&vm, "payer", Entry::Execute, &input(4), FUEL);
    assert_eq!(paid.result.unwrap()[..4], 0i32.to_le_bytes());
    assert_eq!(w.balances[&(to, "usd".to_string())], 4);
    assert_eq!(w.balances[&(address_of("payer"), "usd".to_string())], 6);
}

#[test]
fn read_host_functions() {
    let vm = Vm::default();
    let mut w = World::default();
    // Layout of the 64-byte result: hash(32) | verify ok(4) | verify bad(4) | balance(16) |
    // notary len(4) | range len(4).
    w.deploy(
        "reader",
        contract(
            r#"(data (i32.const 0) "abc")
               (data (i32.const 16) "pkmsgpkmsg")
               (data (i32.const 40) "usd")
               (data (i32.const 48) "a")
               (func (export "execute") (result i32)
                 (call $hash (i32.const 0) (i32.const 3) (i32.const 1000))
                 (i32.store (i32.const 1032)
                   (call $verify_signature (i32.const 16) (i32.const 2) (i32.const 18) (i32.const 3)
                                           (i32.const 21) (i32.const 5)))
                 (i32.store (i32.const 1036)
                   (call $verify_signature (i32.const 16) (i32.const 2) (i32.const 18) (i32.const 3)
                                           (i32.const 20) (i32.const 5)))
                 (call $bank_balance (i32.const 500) (i32.const 40) (i32.const 3) (i32.const 1040))
                 (i32.store (i32.const 1056) (call $notary_get (i32.const 600)))
                 (i32.store (i32.const 1060)
                   (call $storage_range (i32.const 48) (i32.const 1) (i32.const 0) (i32.const 0)
                                        (i32.const 1000) (i32.const 1)))
                 (call $buffer_read (i32.const 1064))
                 (call $set_return (i32.const 1000) (i32.add (i32.const 64) (i32.load (i32.const 1060))))
                 (i32.const 0))"#,
        ),
        false,
    );
    w.balances.insert(([0u8; 20], "usd".into()), 1 << 100);
    for k in [b"a", b"b", b"c"] {
        w.storage.insert(("reader".into(), k.to_vec()), k.repeat(2));
    }
    w.storage
        .insert(("other".into(), b"z".to_vec()), b"no".to_vec());
    let data = w
        .run(&vm, "reader", Entry::Execute, b"", FUEL)
        .result
        .unwrap();
    assert_eq!(data[..32], fake_hash(b"abc"));
    assert_eq!(data[32..36], 1i32.to_le_bytes());
    assert_eq!(data[36..40], 0i32.to_le_bytes());
    assert_eq!(data[40..56], (1u128 << 100).to_be_bytes());
    assert_eq!(data[56..60], (-1i32).to_le_bytes());
    // Range ["a", ∞) descending, limit clamped to 100: c, b, a of this contract only.
    let want = meridian_vm::encode_entries(&[
        (b"c".to_vec(), b"cc".to_vec()),
        (b"b".to_vec(), b"bb".to_vec()),
        (b"a".to_vec(), b"aa".to_vec()),
    ]);
    assert_eq!(data[60..64], (want.len() as i32).to_le_bytes());
    assert_eq!(data[64..], want[..]);
}

#[test]
fn runs_in_parallel_on_a_shared_vm() {
    let vm = Arc::new(Vm::default());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let vm = Arc::clone(&vm);
            std::thread::spawn(move || {
                let mut w = World::default();
                w.deploy("counter", counter(), false);
                (0..3)
                    .map(|_| w.run(&vm, "counter", Entry::Execute, b"t", FUEL))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.windows(2).all(|p| p[0] == p[1]));
    assert_eq!(results[0][2].result, Ok(3u64.to_le_bytes().to_vec()));
    assert_eq!(vm.cache_len(), 1);
}

/// Echo: returns its input.
fn echo() -> Vec<u8> {
    contract(
        r#"(func (export "execute") (result i32)
             (local $len i32)
             (local.set $len (call $input_len))
             (call $input_read (i32.const 0))
             (call $set_return (i32.const 0) (local.get $len))
             (i32.const 0))"#,
    )
}

#[test]
fn buffer_len_reports_the_pending_buffer() {
    let vm = Vm::default();
    let mut w = World::default();
    w.deploy("echo", echo(), false);
    // Ten i32 slots at 1000 (see the comments), then the bytes read with the reported lengths:
    // the echoed return data at 1040 and the CallErrors at 1100 and 1200.
    w.deploy(
        "prober",
        contract(
            r#"(data (i32.const 0) "echo")
               (data (i32.const 16) "hello")
               (data (i32.const 32) "zz")
               (data (i32.const 48) "usd")
               (data (i32.const 64) "nokey")
               (data (i32.const 615) "\01") ;; transfer 1 usd (u128 BE at 600) to 0x00…00
               (func (export "execute") (result i32)
                 (i32.store (i32.const 1000) (call $buffer_len))              ;; 0: empty at start
                 (i32.store (i32.const 1004) (call $env))                     ;; 1: env length
                 (i32.store (i32.const 1008) (call $buffer_len))              ;; 2: the same
                 (i32.store (i32.const 1012)                                  ;; 3: status 0
                   (call $call_contract (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 5)
                                        (i64.const 0)))
                 (i32.store (i32.const 1016) (call $buffer_len))              ;; 4: 5
                 (call $buffer_read (i32.const 1040))
                 (i32.store (i32.const 1020)                                  ;; 5: status 1
                   (call $call_contract (i32.const 32) (i32.const 2) (i32.const 16) (i32.const 5)
                                        (i64.const 0)))
                 (i32.store (i32.const 1024) (call $buffer_len))              ;; 6: CallError
                 (call $buffer_read (i32.const 1100))
                 (i32.store (i32.const 1028)                                  ;; 7: status
                   (call $bank_transfer (i32.const 500) (i32.const 48) (i32.const 3) (i32.const 600)))
                 (i32.store (i32.const 1032) (call $buffer_len))              ;; 8: its buffer
                 (call $buffer_read (i32.const 1200))
                 (drop (call $storage_get (i32.const 64) (i32.const 5)))      ;; absent
                 (i32.store (i32.const 1036) (call $buffer_len))              ;; 9: 0
                 (call $set_return (i32.const 1000) (i32.const 300))
                 (i32.const 0))
               (func (export "query") (result i32)
                 (i32.store (i32.const 0) (call $env))
                 (i32.store (i32.const 4) (call $buffer_len))
                 (call $set_return (i32.const 0) (i32.const 8))
                 (i32.const 0))"#,
        ),
        false,
    );
    let data = w
        .run(&vm, "prober", Entry::Execute, b"", FUEL)
        .result
        .unwrap();
    let slot = |i: usize| i32::from_le_bytes(data[4 * i..4 * i + 4].try_into().unwrap());
    let env_len = env_for("prober", SIGNER, false).encode().len() as i32;
    let not_found = meridian_vm::CallError {
        code: codes::NOT_FOUND.into(),
        message: "zz".into(),
    }
    .encode();
    assert_eq!(slot(0), 0, "empty before any call");
    assert_eq!((slot(1), slot(2)), (env_len, env_len));
    assert_eq!((slot(3), slot(4)), (0, 5));
    assert_eq!(&data[40..45], b"hello");
    assert_eq!((slot(5), slot(6)), (1, not_found.len() as i32));
    assert_eq!(&data[100..100 + not_found.len()], &not_found[..]);
    let poor = meridian_vm::CallError {
        code: "bank.insufficient_funds".into(),
        message: "not enough".into(),
    }
    .encode();
    assert_eq!((slot(7), slot(8)), (1, poor.len() as i32));
    assert_eq!(&data[200..200 + poor.len()], &poor[..]);
    assert_eq!(slot(9), 0, "an absent storage_get empties the buffer");

    // A successful transfer leaves the buffer empty.
    w.balances.insert((address_of("prober"), "usd".into()), 1);
    let data = w
        .run(&vm, "prober", Entry::Execute, b"", FUEL)
        .result
        .unwrap();
    let slot = |i: usize| i32::from_le_bytes(data[4 * i..4 * i + 4].try_into().unwrap());
    assert_eq!((slot(7), slot(8)), (0, 0));

    // Allowed in queries (it writes nothing).
    let q = w
        .run(&vm, "prober", Entry::Query, b"", FUEL)
        .result
        .unwrap();
    assert_eq!(q[..4], q[4..8]);
    assert_eq!(q[..4], env_len.to_le_bytes());
}

#[test]
fn buffer_len_costs_the_base_fee_like_input_len() {
    let vm = Vm::default();
    let fuel_of = |import: &str| {
        let mut w = World::default();
        w.deploy(
            "f",
            contract(&format!(
                r#"(func (export "execute") (result i32) (drop (call ${import})) (i32.const 0))"#
            )),
            false,
        );
        let out = w.run(&vm, "f", Entry::Execute, b"", FUEL);
        assert!(out.result.is_ok(), "{out:?}");
        out.fuel_used
    };
    let nothing = {
        let mut w = World::default();
        w.deploy(
            "f",
            contract(
                r#"(func (export "execute") (result i32) (drop (i32.const 0)) (i32.const 0))"#,
            ),
            false,
        );
        w.run(&vm, "f", Entry::Execute, b"", FUEL).fuel_used
    };
    // Same wasm around the call; `input_len` is documented as base only (spec §5).
    assert_eq!(fuel_of("buffer_len"), fuel_of("input_len"));
    // At least the base fee (plus the engine's cost of `call`, which wasmi pins).
    assert!(fuel_of("buffer_len") >= nothing + fuel::BASE);
}
