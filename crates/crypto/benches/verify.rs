//! Placeholder until the crypto bench lands.
fn main() {}
