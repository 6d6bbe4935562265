//! `relay`: many relayer messages in one transaction (as IBC relayers put many messages in one
//! Cosmos transaction).
//!
//! Why: every packet used to cost the destination one signed transaction — one signature check
//! and one admission per packet on every validator, the largest per-packet cost. A relay
//! transaction carries a client update and the receives (or acknowledgements and timeouts)
//! that need it, under one signature.
//!
//! Unlike a Cosmos multi-message transaction, the messages are not all-or-nothing: each runs in
//! its own nested context and a refused one (most often a packet another relayer delivered
//! first) drops only its own writes. Each message is checked exactly as if it came alone — the
//! proofs, the receipts, the commitments — so batching changes cost, never trust. Only
//! permissionless relayer methods may be carried, never a governance-gated one. The `relayed`
//! event lists each message's outcome; when none applied, the transaction fails with the first
//! refusal's code (nothing changes but the nonce).

use meridian_execution::{ModuleError, TxContext};
use meridian_interop::{codes, InteropError};
use meridian_types::{Reader, MAX_CALL_ARGS_LEN, MAX_EVENTS_PER_TX, MAX_NAME_LEN};

use crate::events::{emit, InteropEvent};
use crate::{InteropCall, InteropModule};

/// Most messages in one `relay` call (also bounded by the call's argument size).
pub const MAX_RELAY_MESSAGES: usize = 32;

/// The methods a `relay` call may carry.
pub const RELAY_METHODS: [&str; 4] = ["update_client", "recv_packet", "acknowledge", "timeout"];

/// Longest outcome code kept in the `relayed` event (module codes are far shorter).
pub const MAX_OUTCOME_CODE_LEN: usize = 64;

/// What the `relayed` event reports for an applied message.
pub const APPLIED: &str = "ok";

/// Decodes hostile `relay` arguments: a count, then per message its method and its own
/// canonical arguments (decoded exactly as a standalone call of that method).
pub(crate) fn decode(args: &[u8]) -> Result<InteropCall, InteropError> {
    let mut r = Reader::new(args);
    let n = r.len(MAX_RELAY_MESSAGES, "relay.messages")?;
    if n == 0 {
        return Err(InteropError::new(
            codes::BAD_ARGS,
            "a relay carries no message",
        ));
    }
    let mut messages = Vec::with_capacity(n);
    for i in 0..n {
        let method = r.string(MAX_NAME_LEN, "relay.method")?;
        let body = r.bytes(MAX_CALL_ARGS_LEN, "relay.args")?;
        if !RELAY_METHODS.contains(&method.as_str()) {
            return Err(InteropError::new(
                codes::BAD_ARGS,
                format!(
                    "relay message {i}: {method:?} cannot be relayed (only {})",
                    RELAY_METHODS.join(", ")
                ),
            ));
        }
        let call = InteropCall::decode(&method, &body)
            .map_err(|e| InteropError::new(e.code, format!("relay message {i}: {}", e.message)))?;
        messages.push(call);
    }
    r.finish()?;
    Ok(InteropCall::Relay { messages })
}

/// Runs `messages` in order, each in its own nested context kept only if it succeeds.
pub(crate) fn relay(
    ctx: &mut TxContext<'_>,
    m: &InteropModule,
    messages: Vec<InteropCall>,
) -> Result<(), ModuleError> {
    let mut outcomes = Vec::with_capacity(messages.len());
    let mut first_refusal: Option<ModuleError> = None;
    for msg in messages {
        let sender = ctx.sender;
        let mut child = ctx.child(crate::NAME, sender);
        let result = m.dispatch(&mut child, msg);
        let outcome = child.into_outcome();
        let result = result.and_then(|()| {
            // One event slot stays free for the `relayed` summary.
            if ctx.event_count() + outcome.event_count() + 1 > MAX_EVENTS_PER_TX {
                return Err(ModuleError::new(
                    "tx.too_many_events",
                    "the relay's event limit is reached; relay the rest in another transaction",
                ));
            }
            ctx.absorb(outcome)
        });
        match result {
            Ok(()) => outcomes.push(APPLIED.to_string()),
            Err(e) => {
                outcomes.push(e.code.chars().take(MAX_OUTCOME_CODE_LEN).collect());
                first_refusal.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_refusal.filter(|_| outcomes.iter().all(|c| c != APPLIED)) {
        return Err(ModuleError::new(
            e.code,
            format!("no relayed message applied; first: {}", e.message),
        ));
    }
    emit(ctx, InteropEvent::Relayed { outcomes })
}
