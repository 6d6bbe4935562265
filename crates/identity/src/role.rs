//! Member roles, carried in the certificate subject's OU (as in ChainMaker's cert mode and
//! Fabric's NodeOUs).

use crate::IdentityError;
use core::{fmt, str::FromStr};

/// Longest role string.
pub const MAX_ROLE_LEN: usize = 32;

/// A member's role in its organisation.
///
/// The built-in roles follow ChainMaker (`admin`, `consensus`, `client`, ...) plus `member`,
/// `regulator` and `auditor`; any other lowercase `[a-z0-9_-]{1,32}` string is a
/// [`Role::Custom`] role whose meaning is up to the chain's permission policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Organisation administrator (governance votes, CA management).
    Admin,
    /// Consensus node (validator).
    Consensus,
    /// Ordinary member (non-consensus node, e.g. a sync/full node).
    Member,
    /// Client (application or user that submits transactions).
    Client,
    /// Regulator (supervisory read access).
    Regulator,
    /// Auditor.
    Auditor,
    /// A chain-specific role; never equal to a built-in name.
    Custom(CustomRole),
}

impl Role {
    /// The built-in roles.
    pub const BUILTIN: [Role; 6] = [
        Role::Admin,
        Role::Consensus,
        Role::Member,
        Role::Client,
        Role::Regulator,
        Role::Auditor,
    ];

    /// The role string as written into the certificate OU.
    pub fn as_str(&self) -> &str {
        match self {
            Role::Admin => "admin",
            Role::Consensus => "consensus",
            Role::Member => "member",
            Role::Client => "client",
            Role::Regulator => "regulator",
            Role::Auditor => "auditor",
            Role::Custom(c) => c.as_str(),
        }
    }

    /// Whether this is a [`Role::Custom`] role.
    pub const fn is_custom(&self) -> bool {
        matches!(self, Role::Custom(_))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = IdentityError;

    /// Exact, case-sensitive: `"admin"` is [`Role::Admin`], `"Admin"` is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(builtin) = Role::BUILTIN.iter().find(|r| r.as_str() == s) {
            return Ok(builtin.clone());
        }
        CustomRole::new(s).map(Role::Custom)
    }
}

/// A validated custom role string: `[a-z0-9_-]{1,32}`, not a built-in role name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomRole(String);

impl CustomRole {
    /// Validates `s`. Built-in names are rejected here (parse them with `Role::from_str`).
    pub fn new(s: &str) -> Result<Self, IdentityError> {
        if s.is_empty() || s.len() > MAX_ROLE_LEN {
            return Err(IdentityError::BadRole(format!(
                "role must be 1..={MAX_ROLE_LEN} characters"
            )));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err(IdentityError::BadRole(format!(
                "role {:?} must match [a-z0-9_-]",
                truncate(s)
            )));
        }
        if Role::BUILTIN.iter().any(|r| r.as_str() == s) {
            return Err(IdentityError::BadRole(format!(
                "{s:?} is a built-in role, not a custom one"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    /// The role string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shortens attacker-controlled text before it goes into an error message.
fn truncate(s: &str) -> String {
    s.chars().take(MAX_ROLE_LEN + 8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builtins_roundtrip() {
        for role in Role::BUILTIN {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(role.to_string(), role.as_str());
            assert!(!role.is_custom());
        }
    }

    #[test]
    fn custom_roles() {
        let r: Role = "light-node_2".parse().unwrap();
        assert!(r.is_custom());
        assert_eq!(r.to_string(), "light-node_2");
        assert!(CustomRole::new("admin").is_err());
        for bad in [
            "",
            "Admin",
            "has space",
            "x.y",
            "é",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            let err = bad.parse::<Role>().unwrap_err();
            assert_eq!(err.code(), "cert.bad_role", "{bad:?}");
        }
        assert!("a".repeat(32).parse::<Role>().is_ok());
    }

    proptest! {
        #[test]
        fn valid_strings_roundtrip(s in "[a-z0-9_-]{1,32}") {
            let role: Role = s.parse().unwrap();
            prop_assert_eq!(role.to_string(), s);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,80}") {
            if let Ok(role) = s.parse::<Role>() {
                prop_assert_eq!(role.as_str(), s.as_str());
            }
        }
    }
}
