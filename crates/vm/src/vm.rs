//! The engine, the compiled-module cache, validation and runs.

use std::{
    collections::VecDeque,
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, MutexGuard,
    },
};

use wasmi::{
    CompilationMode, Config, Engine, ExternType, Module, Store, StoreLimitsBuilder, TrapCode,
    ValType,
};

use crate::{
    abi::{HOST_IMPORTS, IMPORT_MODULE},
    error::{bounded, is_valid_error_code},
    imports::{self, Data},
    Entry, Host, VmError, VmLimits,
};

/// Compiled modules kept by a [`Vm`] unless told otherwise.
pub const DEFAULT_CACHE_CAPACITY: usize = 64;

/// wasm page size.
const PAGE: usize = 64 * 1024;

/// What validation learnt about a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInfo {
    /// Module size in bytes.
    pub size: usize,
    /// Initial linear memory, in pages.
    pub memory_pages: u32,
    /// Exports `instantiate` (needed by `deploy`).
    pub instantiate: bool,
    /// Exports `execute` (needed by `call`).
    pub execute: bool,
    /// Exports `query` (needed by queries).
    pub query: bool,
    /// Exports `migrate` (needed by `upgrade`).
    pub migrate: bool,
    /// Exports `interop_ack` (optional: cross-chain call acknowledgements).
    pub interop_ack: bool,
}

impl CodeInfo {
    /// Whether the module exports `entry`.
    pub fn has_entry(&self, entry: Entry) -> bool {
        match entry {
            Entry::Instantiate => self.instantiate,
            Entry::Execute => self.execute,
            Entry::Query => self.query,
            Entry::Migrate => self.migrate,
            Entry::InteropAck => self.interop_ack,
        }
    }
}

/// Result of [`Vm::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Fuel consumed, on success and on failure (the receipt's `gas_used`): wasm instructions,
    /// host calls and nested calls. Equals the limit on `contract.out_of_fuel`; zero when the
    /// code was rejected before running.
    pub fuel_used: u64,
    /// The entry point's return data (`set_return`), or why the run failed.
    pub result: Result<Vec<u8>, VmError>,
}

/// LRU of compiled modules, most recently used first. Linear scans are fine: the capacity is
/// small and a lookup is nothing next to a run.
struct ModuleCache {
    capacity: usize,
    entries: VecDeque<([u8; 32], Module, CodeInfo)>,
}

impl ModuleCache {
    fn get(&mut self, hash: &[u8; 32]) -> Option<(Module, CodeInfo)> {
        let at = self.entries.iter().position(|(h, ..)| h == hash)?;
        let entry = self.entries.remove(at)?;
        let found = (entry.1.clone(), entry.2.clone());
        self.entries.push_front(entry);
        Some(found)
    }

    fn insert(&mut self, hash: [u8; 32], module: Module, info: CodeInfo) {
        if self.capacity == 0 {
            return;
        }
        self.entries.retain(|(h, ..)| *h != hash);
        self.entries.push_front((hash, module, info));
        self.entries.truncate(self.capacity);
    }
}

/// The contract runtime: a deterministically configured wasmi [`Engine`] plus an LRU cache of
/// compiled modules keyed by code hash.
///
/// One `Vm` is meant to be shared (`Arc<Vm>`) by every executor thread; it is `Send + Sync`
/// and runs never share mutable state (each gets a fresh [`Store`] and instance), so the cache
/// lock is only held for lookups and inserts, never during compilation or execution — which
/// also lets a host re-enter [`Vm::run`] for nested calls.
///
/// Engine configuration (why):
/// - fuel metering on, wasmi's default instruction costs (pinned by `wasmi =2.0.0`);
/// - **eager compilation**: wasmi's default lazy translation charges fuel the first time a
///   function is translated, and translation state lives in the engine, so a cached module
///   would be cheaper than a fresh one and `gas_used` would depend on node history;
/// - features exactly as spec §4: MVP + mutable-globals + sign-extension + bulk-memory +
///   multi-value; no saturating float-to-int, reference types, tail calls, extended-const,
///   multi-memory, threads, SIMD or memory64 (the last two are not compiled into wasmi);
/// - NaN canonicalisation through wasmi's `deterministic` cargo feature (set in the workspace);
/// - recursion limit of [`VmLimits::max_recursion_depth`] frames;
/// - no start function: only entry points run contract code, and only under a host.
pub struct Vm {
    engine: Engine,
    limits: VmLimits,
    cache: Mutex<ModuleCache>,
    compilations: AtomicU64,
}

impl fmt::Debug for Vm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vm")
            .field("limits", &self.limits)
            .field("cache_len", &self.cache_len())
            .field("compilations", &self.compilations())
            .finish_non_exhaustive()
    }
}

impl Default for Vm {
    fn default() -> Self {
        Self::new(VmLimits::default())
    }
}

impl Vm {
    /// A VM with `limits` and a cache of [`DEFAULT_CACHE_CAPACITY`] modules.
    pub fn new(limits: VmLimits) -> Self {
        Self::with_cache_capacity(limits, DEFAULT_CACHE_CAPACITY)
    }

    /// A VM caching at most `capacity` compiled modules (`0` disables the cache).
    pub fn with_cache_capacity(limits: VmLimits, capacity: usize) -> Self {
        let mut config = Config::default();
        config
            .consume_fuel(true)
            .compilation_mode(CompilationMode::Eager)
            .set_max_recursion_depth(limits.max_recursion_depth)
            .allow_start_fn(false)
            .ignore_custom_sections(true)
            .wasm_mutable_global(true)
            .wasm_sign_extension(true)
            .wasm_bulk_memory(true)
            .wasm_multi_value(true)
            .floats(true)
            // Rust's wasm32 std is built with these two on (LLVM defaults since Rust 1.82 /
            // 1.87); both are deterministic.
            .wasm_saturating_float_to_int(true)
            .wasm_reference_types(true)
            .wasm_multi_memory(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .wasm_custom_page_sizes(false)
            .wasm_wide_arithmetic(false);
        Self {
            engine: Engine::new(&config),
            limits,
            cache: Mutex::new(ModuleCache {
                capacity,
                entries: VecDeque::new(),
            }),
            compilations: AtomicU64::new(0),
        }
    }

    /// The limits this VM enforces.
    pub fn limits(&self) -> &VmLimits {
        &self.limits
    }

    /// Number of modules currently cached.
    pub fn cache_len(&self) -> usize {
        self.cache().entries.len()
    }

    /// Number of modules compiled so far (by [`validate`](Vm::validate) and by cache misses in
    /// [`run`](Vm::run)); lets tests and metrics see that the cache works.
    pub fn compilations(&self) -> u64 {
        self.compilations.load(Ordering::Relaxed)
    }

    fn cache(&self) -> MutexGuard<'_, ModuleCache> {
        // A panic elsewhere cannot leave the cache inconsistent (every mutation is a single
        // VecDeque call), so a poisoned lock is still usable.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `code` against spec §4 and reports its entry points; what `deploy` and `upgrade`
    /// run before storing code.
    ///
    /// Order: size (before any parsing) → wasm validation with the VM's feature set → tables
    /// and memory limits → imports (module `"meridian"`, names and exact signatures of spec §6)
    /// → exports (exactly one memory export, named `memory`; entry points of type
    /// `() -> i32`). Whether the entry point a call needs is present is the caller's check
    /// ([`CodeInfo::has_entry`]); `run` fails with `contract.bad_code` if it is missing.
    pub fn validate(&self, code: &[u8]) -> Result<CodeInfo, VmError> {
        self.compile(code).map(|(_, info)| info)
    }

    fn compile(&self, code: &[u8]) -> Result<(Module, CodeInfo), VmError> {
        self.check_size(code)?;
        let module = Module::new(&self.engine, code)
            .map_err(|e| VmError::BadCode(bounded(e.to_string())))?;
        self.compilations.fetch_add(1, Ordering::Relaxed);
        let memory_pages = self.check_sections(code)?;
        check_imports(&module)?;
        let info = check_exports(&module, code.len(), memory_pages)?;
        Ok((module, info))
    }

    fn check_size(&self, code: &[u8]) -> Result<(), VmError> {
        if code.len() > self.limits.max_code_size {
            return Err(VmError::CodeTooLarge {
                size: code.len(),
                limit: self.limits.max_code_size,
            });
        }
        Ok(())
    }

    /// Table and memory declarations (wasmi's `Module` does not expose unexported tables).
    /// Returns the initial memory size in pages.
    fn check_sections(&self, code: &[u8]) -> Result<u32, VmError> {
        use wasmparser::{Parser, Payload};
        let bad = |e: wasmparser::BinaryReaderError| VmError::BadCode(bounded(e.to_string()));
        let (mut tables, mut memories, mut pages) = (0u32, 0u32, 0u32);
        for payload in Parser::new(0).parse_all(code) {
            match payload.map_err(bad)? {
                Payload::TableSection(reader) => {
                    for table in reader {
                        let table = table.map_err(bad)?;
                        tables += 1;
                        if table.ty.initial > u64::from(self.limits.max_table_elements) {
                            return Err(VmError::MemoryLimit(format!(
                                "table of {} elements, limit {}",
                                table.ty.initial, self.limits.max_table_elements
                            )));
                        }
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        let memory = memory.map_err(bad)?;
                        memories += 1;
                        if memory.shared || memory.memory64 {
                            return Err(VmError::BadCode("shared or 64-bit memory".into()));
                        }
                        if memory.initial > u64::from(self.limits.max_memory_pages) {
                            return Err(VmError::MemoryLimit(format!(
                                "memory of {} pages, limit {}",
                                memory.initial, self.limits.max_memory_pages
                            )));
                        }
                        pages = u32::try_from(memory.initial).unwrap_or(u32::MAX);
                    }
                }
                // Tables and memories precede the code; nothing after it matters here.
                Payload::CodeSectionStart { .. } => break,
                _ => {}
            }
        }
        if tables > self.limits.max_tables {
            return Err(VmError::BadCode(format!(
                "{tables} tables, limit {}",
                self.limits.max_tables
            )));
        }
        if memories != 1 {
            return Err(VmError::BadCode(format!(
                "{memories} memories defined, exactly 1 required"
            )));
        }
        Ok(pages)
    }

    /// The cached module for `code_hash`, compiling (and validating) `code` on a miss.
    fn module(&self, code_hash: [u8; 32], code: &[u8]) -> Result<(Module, CodeInfo), VmError> {
        if let Some(hit) = self.cache().get(&code_hash) {
            return Ok(hit);
        }
        // Compile outside the lock: a slow compile must not stall other threads' runs.
        let (module, info) = self.compile(code)?;
        self.cache().insert(code_hash, module.clone(), info.clone());
        Ok((module, info))
    }

    /// Runs `entry` of the contract whose code is `code` (with suite hash `code_hash`, which
    /// the caller vouches for: it is the cache key) with `input` and at most `fuel_limit` fuel.
    ///
    /// Each run gets a fresh store and instance (nothing survives between runs except what the
    /// host stores), with memory and tables capped by [`VmLimits`]. `Entry::Query` runs are
    /// read-only: `storage_set`, `storage_remove`, `emit_event`, `bank_transfer` and
    /// `call_contract` fail with `contract.read_only`.
    ///
    /// The VM never reverts host writes: on any error the caller must discard the run's
    /// write-set (spec §2). Never panics on contract behaviour.
    pub fn run(
        &self,
        code_hash: [u8; 32],
        code: &[u8],
        entry: Entry,
        input: &[u8],
        fuel_limit: u64,
        host: &mut dyn Host,
    ) -> RunOutcome {
        let rejected = |error| RunOutcome {
            fuel_used: 0,
            result: Err(error),
        };
        if let Err(e) = self.check_size(code) {
            return rejected(e);
        }
        let (module, info) = match self.module(code_hash, code) {
            Ok(found) => found,
            Err(e) => return rejected(e),
        };
        if !info.has_entry(entry) {
            return rejected(VmError::BadCode(format!(
                "missing export `{}`",
                entry.export_name()
            )));
        }
        self.execute(&module, entry, input, fuel_limit, host)
    }

    fn execute(
        &self,
        module: &Module,
        entry: Entry,
        input: &[u8],
        fuel_limit: u64,
        host: &mut dyn Host,
    ) -> RunOutcome {
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.max_memory_pages as usize * PAGE)
            .table_elements(self.limits.max_table_elements as usize)
            .tables(self.limits.max_tables as usize)
            .memories(1)
            .instances(1)
            .trap_on_grow_failure(false)
            .build();
        let mut store = Store::new(
            &self.engine,
            Data {
                host,
                vm: self,
                input,
                read_only: entry.is_read_only(),
                memory: None,
                buffer: Vec::new(),
                ret: Vec::new(),
                error: None,
                failure: None,
                store_limits,
            },
        );
        store.limiter(|data| &mut data.store_limits);
        let call = store.set_fuel(fuel_limit).and_then(|()| {
            let linker = imports::linker(&self.engine)?;
            let instance = linker.instantiate_and_start(&mut store, module)?;
            store.data_mut().memory = instance.get_memory(&store, "memory");
            let func = instance.get_typed_func::<(), i32>(&store, entry.export_name())?;
            func.call(&mut store, ())
        });
        let remaining = store.get_fuel().unwrap_or(0);
        let data = store.into_data();
        let result = match (data.failure, call) {
            (Some(failure), _) => Err(failure),
            (None, Ok(0)) => Ok(data.ret),
            (None, Ok(1)) => Err(contract_error(data.error, data.host)),
            (None, Ok(status)) => Err(VmError::Trap(format!(
                "entry point returned {status} (expected 0 or 1)"
            ))),
            (None, Err(e)) => Err(map_wasmi_error(&e)),
        };
        let fuel_used = match result {
            Err(VmError::OutOfFuel) => fuel_limit,
            _ => fuel_limit.saturating_sub(remaining),
        };
        RunOutcome { fuel_used, result }
    }
}

/// The error of an entry point that returned 1.
fn contract_error(error: Option<(Vec<u8>, Vec<u8>)>, host: &dyn Host) -> VmError {
    match error {
        None => VmError::BadError("entry point returned 1 without set_error".into()),
        Some((code, message)) if is_valid_error_code(&code) => VmError::Contract {
            contract: host.env().contract.clone(),
            code: String::from_utf8_lossy(&code).into_owned(),
            message: String::from_utf8_lossy(&message).into_owned(),
        },
        Some((code, _)) => VmError::BadError(bounded(format!(
            "invalid error code {:?}",
            String::from_utf8_lossy(&code)
        ))),
    }
}

fn map_wasmi_error(error: &wasmi::Error) -> VmError {
    match error.as_trap_code() {
        Some(TrapCode::OutOfFuel) => VmError::OutOfFuel,
        Some(TrapCode::StackOverflow) => VmError::StackOverflow,
        Some(code @ (TrapCode::GrowthOperationLimited | TrapCode::OutOfSystemMemory)) => {
            VmError::MemoryLimit(code.to_string())
        }
        Some(code) => VmError::Trap(code.to_string()),
        None => VmError::Trap(bounded(error.to_string())),
    }
}

fn check_imports(module: &Module) -> Result<(), VmError> {
    for import in module.imports() {
        let name = import.name();
        if import.module() != IMPORT_MODULE {
            return Err(VmError::BadCode(bounded(format!(
                "forbidden import {}.{name}",
                import.module()
            ))));
        }
        let Some((_, params, results)) = HOST_IMPORTS.iter().find(|(n, ..)| *n == name) else {
            return Err(VmError::BadCode(bounded(format!(
                "unknown host function meridian.{name}"
            ))));
        };
        match import.ty() {
            ExternType::Func(ty) if ty.params() == *params && ty.results() == *results => {}
            _ => {
                return Err(VmError::BadCode(bounded(format!(
                    "import meridian.{name} has the wrong type"
                ))))
            }
        }
    }
    Ok(())
}

fn check_exports(module: &Module, size: usize, memory_pages: u32) -> Result<CodeInfo, VmError> {
    let mut info = CodeInfo {
        size,
        memory_pages,
        instantiate: false,
        execute: false,
        query: false,
        migrate: false,
        interop_ack: false,
    };
    let mut memory_exports = Vec::new();
    for export in module.exports() {
        match export.ty() {
            ExternType::Memory(_) => memory_exports.push(export.name()),
            ExternType::Func(ty) => {
                if let Some(entry) = Entry::from_export_name(export.name()) {
                    if !ty.params().is_empty() || ty.results() != [ValType::I32] {
                        return Err(VmError::BadCode(format!(
                            "entry point `{}` must have type () -> i32",
                            entry.export_name()
                        )));
                    }
                    match entry {
                        Entry::Instantiate => info.instantiate = true,
                        Entry::Execute => info.execute = true,
                        Entry::Query => info.query = true,
                        Entry::Migrate => info.migrate = true,
                        Entry::InteropAck => info.interop_ack = true,
                    }
                }
            }
            _ => {}
        }
    }
    if memory_exports != ["memory"] {
        return Err(VmError::BadCode(
            "exactly one memory export, named `memory`, is required".into(),
        ));
    }
    Ok(info)
}
