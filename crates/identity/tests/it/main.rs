//! Integration tests for `meridian-identity`: issuing, verifying and rejecting certificates
//! through the public API only, plus interop with OpenSSL-generated certificates.

mod chain;
mod interop;
mod parse;
mod support;
