//! `meridian ca` end to end through the real binary: for every algorithm (sm2, p256, ed25519)
//! init an organisation CA, issue admin / consensus / client (and a custom role) certificates
//! from a keystore key, a hex public key and a freshly generated key, show and verify them, and
//! check the failures a verifier must see (`cert.unknown_ca`, `cert.expired`, `cert.revoked`),
//! the key files at rest (encrypted, 0600) and the error messages. Every command runs with an
//! empty `PATH`, so nothing external (OpenSSL) can be involved, and non-interactively
//! (passphrases from files, as in tests/cli.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_meridian");
/// 2100-01-01: far beyond every certificate made here.
const FAR_FUTURE: &str = "4102444800";

const CA_PASS: &str = "ca passphrase, long enough";
const MEMBER_PASS: &str = "member passphrase, also long";

struct Env {
    _root: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
    empty_path: PathBuf,
    ca_pass: PathBuf,
    member_pass: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let empty_path = root.join("empty-bin");
        std::fs::create_dir(&empty_path).unwrap();
        let ca_pass = root.join("ca-pass.txt");
        std::fs::write(&ca_pass, format!("{CA_PASS}\n")).unwrap();
        let member_pass = root.join("member-pass.txt");
        std::fs::write(&member_pass, format!("{MEMBER_PASS}\n")).unwrap();
        Env {
            keys: root.join("keys"),
            root,
            _root: dir,
            empty_path,
            ca_pass,
            member_pass,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Runs the binary with a clean environment: no PATH entries (no openssl or anything else
    /// to call), the test key store, no passphrase unless `envs` sets one.
    fn raw(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("PATH", &self.empty_path)
            .env("MERIDIAN_KEYS_DIR", &self.keys)
            .stdin(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// Adds the CA passphrase file to commands that unlock or create a key.
    fn with_pass<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        let needs = matches!(
            args,
            ["ca", "init" | "issue", ..] | ["keys", "new" | "import", ..]
        );
        if needs {
            all.extend(["--passphrase-file", self.ca_pass.to_str().unwrap()]);
        }
        all
    }

    /// Runs (with the passphrase where needed), asserts success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let all = self.with_pass(args);
        let o = self.raw(&all, &[]);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "meridian {all:?} failed ({:?}):\n{stdout}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Runs with `--json` expecting exit `code`; returns the error document.
    fn fails(&self, args: &[&str], code: i32) -> Value {
        let mut all = self.with_pass(args);
        all.push("--json");
        let o = self.raw(&all, &[]);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(
            o.status.code(),
            Some(code),
            "meridian {all:?}: {stdout} {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    fn init_ca(&self, org: &str, alg: &str, dir: &str) -> Value {
        let d = self.path(dir);
        self.json(&[
            "ca",
            "init",
            "--org",
            org,
            "--alg",
            alg,
            "--dir",
            d.to_str().unwrap(),
        ])
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[cfg(unix)]
fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{} must be 0600", path.display());
}

/// The file must not contain the secret: neither as hex (either case) nor as raw bytes.
fn assert_no_plaintext(path: &Path, secret: &[u8]) {
    let raw = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(
        !text.contains(&hex::encode(secret)),
        "{} holds the key in hex",
        path.display()
    );
    assert!(
        !raw.windows(secret.len()).any(|w| w == secret),
        "{} holds the raw key",
        path.display()
    );
}

fn suite_of(alg: &str) -> &'static str {
    if alg == "sm2" {
        "sm"
    } else {
        "intl"
    }
}

fn full_name(alg: &str) -> &'static str {
    match alg {
        "sm2" => "sm2-sm3",
        "p256" => "ecdsa-p256-sha256",
        _ => "ed25519",
    }
}

/// The whole life of one algorithm's CA.
fn lifecycle(alg: &str) {
    let env = Env::new();
    let suite = suite_of(alg);

    // --- init: the CA, another org's CA, and a second CA of the same org (other key).
    let ca = env.init_ca("org1", alg, "org1-ca");
    assert_eq!(ca["algorithm"], full_name(alg));
    assert_eq!(ca["suite"], suite);
    let ca_dir = env.path("org1-ca");
    let ca_pem = ca_dir.join("ca.pem");
    let ca_key = ca_dir.join("ca.key");
    let index = ca_dir.join("issued.json");
    assert!(ca_pem.exists() && index.exists());
    env.init_ca("org2", alg, "org2-ca");
    env.init_ca("org1", alg, "org1-other-ca");
    let org2_pem = env.path("org2-ca").join("ca.pem");
    let other_pem = env.path("org1-other-ca").join("ca.pem");

    // The CA key: encrypted (it opens with the passphrase, to the key of ca.pem), 0600, and the
    // key in no form in the file.
    #[cfg(unix)]
    assert_private(&ca_key);
    let kf = meridian_client::KeyFile::read_bytes(&ca_key).unwrap();
    assert_eq!(kf.algorithm.as_deref(), Some(full_name(alg)));
    let secret = kf.open_bytes(&ca_key, CA_PASS.as_bytes()).unwrap();
    assert_eq!(secret.len(), 32);
    let signing =
        meridian_identity::SigningKey::from_bytes(full_name(alg).parse().unwrap(), &secret)
            .unwrap();
    let ca_cert = meridian_identity::Certificate::parse(&std::fs::read(&ca_pem).unwrap()).unwrap();
    assert_eq!(&signing.public_key(), ca_cert.public_key());
    assert_eq!(
        hex::encode(signing.public_key().to_bytes()),
        ca["public_key"]
    );
    assert_no_plaintext(&ca_key, &secret);
    assert!(kf.open_bytes(&ca_key, b"wrong").is_err());
    // A CA key is not an account key.
    let e = env.fails(&["keys", "import", "ca", "--file", s(&ca_key)], 4);
    assert_eq!(e["code"], "keystore.invalid_file");

    // The CA certificate.
    let show = env.json(&["ca", "show", s(&ca_pem)]);
    assert_eq!(show["is_ca"], true);
    assert_eq!(show["org"], "org1");
    assert_eq!(show["name"], "ca.org1");
    assert_eq!(show["role"], Value::Null);
    assert_eq!(show["suite"], suite);
    assert_eq!(show["cert_id"], ca["cert_id"]);
    assert_eq!(show["serial"], ca["serial"]);
    assert_eq!(show["subject"], show["issuer"]);

    // --- issue: admin from the key store, consensus from a hex public key, client with a new key.
    let admin_key = env.json(&["keys", "new", "admin1", "--suite", suite]);
    let node_key = env.json(&["keys", "new", "node1", "--suite", suite]);
    let admin_pem = env.path("admin.pem");
    let admin = env.json(&[
        "ca",
        "issue",
        "--dir",
        s(&ca_dir),
        "--name",
        "admin1",
        "--role",
        "admin",
        "--key",
        "admin1",
        "--out",
        s(&admin_pem),
    ]);
    assert_eq!(admin["public_key"], admin_key["public_key"]);
    let node_hex = node_key["public_key"].as_str().unwrap();
    let node = env.json(&[
        "ca",
        "issue",
        "--dir",
        s(&ca_dir),
        "--name",
        "node1",
        "--role",
        "consensus",
        "--public-key",
        &format!("0x{node_hex}"),
        "--days",
        "30",
    ]);
    assert_eq!(node["public_key"], node_hex);
    let node_pem = PathBuf::from(node["cert"].as_str().unwrap());
    let client_key = env.path("client.key");
    let client_pem = env.path("client.pem");
    let client = env.json(&[
        "ca",
        "issue",
        "--dir",
        s(&ca_dir),
        "--name",
        "Client One",
        "--role",
        "client",
        "--new-key",
        s(&client_key),
        "--new-key-passphrase-file",
        s(&env.member_pass),
        "--out",
        s(&client_pem),
    ]);
    assert_eq!(client["algorithm"], full_name(alg));
    assert_eq!(client["key_file"], s(&client_key));
    // A custom role, for the new key's public key given as hex (P-256 SEC1 on a p256 CA).
    let client_hex = client["public_key"].as_str().unwrap();
    let custom = env.json(&[
        "ca",
        "issue",
        "--dir",
        s(&ca_dir),
        "--name",
        "op",
        "--role",
        "operator",
        "--public-key",
        client_hex,
    ]);
    assert_eq!(custom["role"], "operator");

    // Serials: random, distinct, none the CA's.
    let serials: Vec<&str> = [&admin, &node, &client, &custom]
        .iter()
        .map(|v| v["serial"].as_str().unwrap())
        .collect();
    let mut uniq = serials.clone();
    uniq.push(ca["serial"].as_str().unwrap());
    uniq.sort_unstable();
    uniq.dedup();
    assert_eq!(uniq.len(), 5, "{serials:?}");
    for sr in &serials {
        assert!(sr.len() >= 16, "random serials are ~128 bits: {sr}");
        assert!(ca_dir.join("certs").join(format!("{sr}.pem")).exists());
    }
    // --out and the archive copy are the same certificate.
    assert_eq!(
        std::fs::read(&admin_pem).unwrap(),
        std::fs::read(admin["cert"].as_str().unwrap()).unwrap()
    );

    // The member key: encrypted under the member's passphrase, 0600, no plaintext; an account
    // key file the key store imports, whatever the algorithm (a P-256 key signs transactions
    // on intl chains).
    #[cfg(unix)]
    assert_private(&client_key);
    let kf = meridian_client::KeyFile::read(&client_key).unwrap();
    let key = kf.open(&client_key, MEMBER_PASS.as_bytes()).unwrap();
    assert!(kf.open(&client_key, CA_PASS.as_bytes()).is_err());
    assert_no_plaintext(&client_key, key.to_bytes().as_slice());
    assert_no_plaintext(&client_key, &key.to_tagged_bytes());
    assert_eq!(kf.public_key, client_hex);
    assert_eq!(
        matches!(key, meridian_crypto::PrivateKey::P256(_)),
        alg == "p256"
    );
    // Usable as the member's account key.
    let o = env.raw(
        &[
            "keys",
            "import",
            "client1",
            "--file",
            s(&client_key),
            "--json",
        ],
        &[("MERIDIAN_PASSPHRASE", MEMBER_PASS)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shown = env.json(&["keys", "show", "client1"]);
    assert_eq!(shown["public_key"], client_hex);

    // --- show
    for (pem, want, role, name) in [
        (&admin_pem, &admin, "admin", "admin1"),
        (&node_pem, &node, "consensus", "node1"),
        (&client_pem, &client, "client", "Client One"),
    ] {
        let v = env.json(&["ca", "show", s(pem)]);
        assert_eq!(v["org"], "org1");
        assert_eq!(v["role"], role);
        assert_eq!(v["name"], name);
        assert_eq!(v["is_ca"], false);
        assert_eq!(v["serial"], want["serial"]);
        assert_eq!(v["cert_id"], want["cert_id"]);
        assert_eq!(v["suite"], suite);
        assert_eq!(v["not_after"], want["not_after"]);
        assert_eq!(v["valid_now"], true);
        assert_eq!(v["issuer"], show["subject"]);
        assert_eq!(v["signature_algorithm"], full_name(alg));
        // The other suite's hash gives another id.
        let other = if suite == "sm" { "intl" } else { "sm" };
        let v2 = env.json(&["ca", "show", s(pem), "--suite", other]);
        assert_ne!(v2["cert_id"], v["cert_id"]);
        let human = env.ok(&["ca", "show", s(pem)]);
        for needle in [
            "subject:",
            "issuer:",
            "serial:",
            "validity:",
            "cert id:",
            "is ca:",
        ] {
            assert!(human.contains(needle), "{needle} missing:\n{human}");
        }
        assert!(human.contains(role) && human.contains(name), "{human}");
    }
    let v = env.json(&["ca", "show", s(&node_pem)]);
    let issued_for_30_days = v["not_after"].as_u64().unwrap() - v["not_before"].as_u64().unwrap();
    assert_eq!(issued_for_30_days, 30 * 86_400 + 300);

    // --- verify: success.
    for (pem, want, role) in [
        (&admin_pem, &admin, "admin"),
        (&node_pem, &node, "consensus"),
        (&client_pem, &client, "client"),
    ] {
        let v = env.json(&["ca", "verify", s(pem), "--ca", s(&ca_pem)]);
        assert_eq!(v["valid"], true);
        assert_eq!(v["org"], "org1");
        assert_eq!(v["role"], role);
        assert_eq!(v["cert_id"], want["cert_id"]);
        assert_eq!(v["issuer_ca_id"], ca["cert_id"]);
        assert_eq!(v["public_key"], want["public_key"]);
        assert_eq!(v["revocation_checked"], false);
        // Among several trusted CAs.
        let v = env.json(&[
            "ca",
            "verify",
            s(pem),
            "--ca",
            s(&org2_pem),
            "--ca",
            s(&ca_pem),
            "--revoked-list",
            s(&index),
        ]);
        assert_eq!(v["role"], role);
        assert_eq!(v["revocation_checked"], true);
    }
    let human = env.ok(&["ca", "verify", s(&node_pem), "--ca", s(&ca_pem)]);
    assert!(
        human.contains("certificate valid") && human.contains("node1"),
        "{human}"
    );

    // --- verify: the wrong CA (another org, or the same org's name with another key).
    for wrong in [&org2_pem, &other_pem] {
        let e = env.fails(&["ca", "verify", s(&node_pem), "--ca", s(wrong)], 5);
        assert_eq!(e["code"], "cert.unknown_ca", "{e}");
    }
    // Human error output: the code on stderr.
    let o = env.raw(&["ca", "verify", s(&node_pem), "--ca", s(&org2_pem)], &[]);
    assert_eq!(o.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error[cert.unknown_ca]"));

    // --- verify: expired (30 days, checked far in the future) and not yet valid.
    let e = env.fails(
        &[
            "ca",
            "verify",
            s(&node_pem),
            "--ca",
            s(&ca_pem),
            "--at",
            FAR_FUTURE,
        ],
        5,
    );
    assert_eq!(e["code"], "cert.expired");
    let e = env.fails(
        &[
            "ca",
            "verify",
            s(&node_pem),
            "--ca",
            s(&ca_pem),
            "--at",
            "1000000000",
        ],
        5,
    );
    assert_eq!(e["code"], "cert.not_yet_valid");
    // Just before its end the 30-day certificate is still valid.
    let end = node["not_after"].as_u64().unwrap().to_string();
    env.json(&[
        "ca",
        "verify",
        s(&node_pem),
        "--ca",
        s(&ca_pem),
        "--at",
        &end,
    ]);

    // A CA is not a member certificate.
    let e = env.fails(&["ca", "verify", s(&ca_pem), "--ca", s(&ca_pem)], 5);
    assert_eq!(e["code"], "cert.not_a_leaf");

    // --- revoke + list.
    let client_serial = client["serial"].as_str().unwrap();
    let r = env.json(&[
        "ca",
        "revoke",
        "--dir",
        s(&ca_dir),
        "--serial",
        client_serial,
    ]);
    assert_eq!(r["revoked"], true);
    assert_eq!(r["already_revoked"], false);
    let r = env.json(&[
        "ca",
        "revoke",
        "--dir",
        s(&ca_dir),
        "--serial",
        &client_serial.to_ascii_uppercase(),
    ]);
    assert_eq!(r["already_revoked"], true);
    let e = env.fails(
        &[
            "ca",
            "verify",
            s(&client_pem),
            "--ca",
            s(&ca_pem),
            "--revoked-list",
            s(&index),
        ],
        5,
    );
    assert_eq!(e["code"], "cert.revoked");
    // Without the list, revocation is not checked; other certificates are unaffected.
    env.json(&["ca", "verify", s(&client_pem), "--ca", s(&ca_pem)]);
    env.json(&[
        "ca",
        "verify",
        s(&admin_pem),
        "--ca",
        s(&ca_pem),
        "--revoked-list",
        s(&index),
    ]);
    // Another CA's list does not apply to this CA's certificates (and is refused when that CA
    // is not trusted).
    let e = env.fails(
        &[
            "ca",
            "verify",
            s(&client_pem),
            "--ca",
            s(&ca_pem),
            "--revoked-list",
            s(&env.path("org2-ca").join("issued.json")),
        ],
        1,
    );
    assert!(
        e["message"].as_str().unwrap().contains("--revoked-list"),
        "{e}"
    );

    let list = env.json(&["ca", "list", "--dir", s(&ca_dir)]);
    assert_eq!(list["org"], "org1");
    assert_eq!(list["ca_cert_id"], ca["cert_id"]);
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 4);
    for c in certs {
        let sr = c["serial"].as_str().unwrap();
        let revoked = sr == client_serial;
        assert_eq!(c["revoked"], revoked, "{c}");
        assert_eq!(c["status"], if revoked { "revoked" } else { "valid" });
        for k in ["serial", "name", "role", "not_after", "cert_id", "revoked"] {
            assert!(!c[k].is_null(), "{k} missing in {c}");
        }
    }
    let roles: Vec<&str> = certs.iter().map(|c| c["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["admin", "consensus", "client", "operator"]);
    // The on-disk index has exactly the documented fields.
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&index).unwrap()).unwrap();
    assert_eq!(on_disk["certificates"][2]["revoked"], true);
    assert_eq!(on_disk["certificates"][0]["revoked"], false);
    let human = env.ok(&["ca", "list", "--dir", s(&ca_dir)]);
    assert!(
        human.contains("revoked") && human.contains("Client One"),
        "{human}"
    );
}

#[test]
fn lifecycle_sm2() {
    lifecycle("sm2");
}

#[test]
fn lifecycle_p256() {
    lifecycle("p256");
}

#[test]
fn lifecycle_ed25519() {
    lifecycle("ed25519");
}

#[test]
fn help_is_complete() {
    let env = Env::new();
    let top = env.ok(&["--help"]);
    assert!(top.contains("ca "), "meridian --help lacks ca:\n{top}");
    let ca = env.ok(&["ca", "--help"]);
    for needle in [
        "init",
        "issue",
        "show",
        "verify",
        "list",
        "revoke",
        "--passphrase-file",
        "MERIDIAN_PASSPHRASE",
        "--json",
        "Exit codes",
        "ca.key",
        "issued.json",
    ] {
        assert!(
            ca.contains(needle),
            "meridian ca --help lacks {needle}:\n{ca}"
        );
    }
    let expect: [(&str, &[&str]); 6] = [
        (
            "init",
            &[
                "--org", "--alg", "--dir", "--days", "sm2", "p256", "ed25519",
            ],
        ),
        (
            "issue",
            &[
                "--dir",
                "--name",
                "--role",
                "--public-key",
                "--key",
                "--new-key",
                "--new-key-passphrase-file",
                "MERIDIAN_NEW_KEY_PASSPHRASE",
                "--days",
                "--out",
                "consensus",
                "auditor",
            ],
        ),
        ("show", &["--suite", "cert id"]),
        (
            "verify",
            &[
                "--ca",
                "--at",
                "--revoked-list",
                "cert.unknown_ca",
                "cert.revoked",
            ],
        ),
        ("list", &["--dir"]),
        ("revoke", &["--dir", "--serial", "revoke-cert"]),
    ];
    for (sub, needles) in expect {
        let h = env.ok(&["ca", sub, "--help"]);
        for n in needles {
            assert!(h.contains(n), "meridian ca {sub} --help lacks {n}:\n{h}");
        }
        assert!(
            h.contains("Example"),
            "meridian ca {sub} --help has no example:\n{h}"
        );
    }
}

#[test]
fn errors_name_the_field_and_the_fix() {
    let env = Env::new();
    let dir = env.path("ca");
    let d = s(&dir);

    // init
    let e = env.fails(&["ca", "init", "--org", "bad org", "--dir", d], 1);
    assert_eq!(e["code"], "client.bad_input");
    assert!(e["message"].as_str().unwrap().contains("--org"), "{e}");
    let e = env.fails(&["ca", "init", "--org", "o", "--alg", "rsa", "--dir", d], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("sm2, p256 or ed25519"),
        "{e}"
    );
    let e = env.fails(&["ca", "init", "--org", "o", "--days", "0", "--dir", d], 1);
    assert!(e["message"].as_str().unwrap().contains("--days"), "{e}");
    // No passphrase and no terminal: a clear error, not a hang.
    let o = env.raw(&["ca", "init", "--org", "o", "--dir", d, "--json"], &[]);
    assert_eq!(o.status.code(), Some(4));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["code"], "keystore.no_passphrase");
    assert!(!dir.join("ca.key").exists());

    // A CA through the environment variable (default algorithm sm2).
    let o = env.raw(
        &["ca", "init", "--org", "org1", "--dir", d, "--json"],
        &[("MERIDIAN_PASSPHRASE", CA_PASS)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ca: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(ca["algorithm"], "sm2-sm3");
    let e = env.fails(&["ca", "init", "--org", "org1", "--dir", d], 1);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("already holds a CA"),
        "{e}"
    );

    // issue
    let sm_key = env.json(&["keys", "new", "smkey", "--suite", "sm"]);
    let sm_hex = sm_key["public_key"].as_str().unwrap().to_string();
    env.json(&["keys", "new", "intlkey", "--suite", "intl"]);
    let issue = |extra: &[&str], code: i32| {
        let mut a = vec!["ca", "issue", "--dir", d];
        a.extend_from_slice(extra);
        env.fails(&a, code)
    };
    let msg = |v: &Value| v["message"].as_str().unwrap().to_string();
    let e = issue(&["--name", "n", "--role", "Admin", "--key", "smkey"], 1);
    assert!(
        msg(&e).contains("--role") && msg(&e).contains("consensus"),
        "{e}"
    );
    let e = issue(&["--name", " n", "--role", "admin", "--key", "smkey"], 1);
    assert!(msg(&e).contains("--name"), "{e}");
    let e = issue(
        &["--name", "n", "--role", "admin", "--public-key", "abcd"],
        1,
    );
    assert!(
        msg(&e).contains("--public-key") && msg(&e).contains("33 bytes"),
        "{e}"
    );
    let e = issue(&["--name", "n", "--role", "admin", "--public-key", "zz"], 1);
    assert!(msg(&e).contains("not hex"), "{e}");
    let e = issue(&["--name", "n", "--role", "admin", "--key", "intlkey"], 5);
    assert_eq!(e["code"], "cert.wrong_algorithm");
    assert!(msg(&e).contains("--suite sm"), "{e}");
    let e = issue(&["--name", "n", "--role", "admin", "--key", "nobody"], 4);
    assert_eq!(e["code"], "keystore.not_found");
    let e = issue(
        &[
            "--name", "n", "--role", "admin", "--key", "smkey", "--days", "4000",
        ],
        1,
    );
    assert!(
        msg(&e).contains("outlive the CA") && msg(&e).contains("--days"),
        "{e}"
    );
    let e = issue(
        &[
            "--name",
            "n",
            "--role",
            "admin",
            "--new-key",
            s(&env.path("x.key")),
            "--new-key-alg",
            "ed25519",
        ],
        5,
    );
    assert_eq!(e["code"], "cert.wrong_algorithm");
    // The member key must not share the CA's passphrase.
    let e = issue(
        &[
            "--name",
            "n",
            "--role",
            "admin",
            "--new-key",
            s(&env.path("x.key")),
            "--new-key-passphrase-file",
            s(&env.ca_pass),
        ],
        1,
    );
    assert!(msg(&e).contains("must differ"), "{e}");
    assert!(!env.path("x.key").exists());
    // No passphrase for the new key and no terminal.
    let e = issue(
        &[
            "--name",
            "n",
            "--role",
            "admin",
            "--new-key",
            s(&env.path("x.key")),
        ],
        4,
    );
    assert!(msg(&e).contains("--new-key-passphrase-file"), "{e}");
    // Wrong CA passphrase.
    let o = env.raw(
        &[
            "ca", "issue", "--dir", d, "--name", "n", "--role", "admin", "--key", "smkey", "--json",
        ],
        &[("MERIDIAN_PASSPHRASE", "wrong")],
    );
    assert_eq!(o.status.code(), Some(4));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["code"], "keystore.wrong_passphrase");
    // Exactly one key source (clap refuses none or two, with usage, exit 2).
    let o = env.raw(
        &["ca", "issue", "--dir", d, "--name", "n", "--role", "admin"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--public-key"));
    let o = env.raw(
        &[
            "ca",
            "issue",
            "--dir",
            d,
            "--name",
            "n",
            "--role",
            "admin",
            "--key",
            "smkey",
            "--public-key",
            &sm_hex,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    // Not a CA directory.
    let e = env.fails(
        &[
            "ca",
            "issue",
            "--dir",
            s(&env.path("nowhere")),
            "--name",
            "n",
            "--role",
            "admin",
            "--key",
            "smkey",
        ],
        1,
    );
    assert!(msg(&e).contains("meridian ca init"), "{e}");
    // --out never overwrites.
    let out = env.path("exists.pem");
    std::fs::write(&out, "keep").unwrap();
    let e = issue(
        &[
            "--name",
            "n",
            "--role",
            "admin",
            "--key",
            "smkey",
            "--out",
            s(&out),
        ],
        1,
    );
    assert!(
        msg(&e).contains("--out") && msg(&e).contains("already exists"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
    // Nothing was issued by any failed command.
    let list = env.json(&["ca", "list", "--dir", d]);
    assert_eq!(list["certificates"].as_array().unwrap().len(), 0);
    assert!(env
        .ok(&["ca", "list", "--dir", d])
        .contains("no certificates issued yet"));

    // revoke
    let e = env.fails(&["ca", "revoke", "--dir", d, "--serial", "0abc"], 1);
    assert!(msg(&e).contains("meridian ca list"), "{e}");
    let e = env.fails(&["ca", "revoke", "--dir", d, "--serial", "xyz"], 1);
    assert!(msg(&e).contains("--serial"), "{e}");
    let ca_serial = ca["serial"].as_str().unwrap();
    let e = env.fails(&["ca", "revoke", "--dir", d, "--serial", ca_serial], 1);
    assert!(msg(&e).contains("CA certificate itself"), "{e}");

    // show / verify on files that are not certificates.
    let junk = env.path("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let e = env.fails(&["ca", "show", s(&junk)], 5);
    assert_eq!(e["code"], "cert.malformed");
    let e = env.fails(
        &["ca", "verify", s(&junk), "--ca", s(&dir.join("ca.pem"))],
        5,
    );
    assert_eq!(e["code"], "cert.malformed");
    let e = env.fails(&["ca", "show", s(&env.path("missing.pem"))], 1);
    assert_eq!(e["code"], "client.io");
    let e = env.fails(&["ca", "show", s(&dir.join("ca.pem")), "--suite", "x"], 1);
    assert!(msg(&e).contains("--suite"), "{e}");
}
