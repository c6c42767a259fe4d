//! The command line contract (SPEC §13): help, JSON output, one-line errors, config
//! file and environment.

use integration_tests::*;
use std::process::Command;

fn passgrid(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(passgrid_bin());
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn help_lists_the_contract() {
    let out = passgrid(&["--help"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "serve", "admin", "user", "cert", "ca", "group", "policy", "token", "audit", "sync",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}");
    }
    let out = passgrid(&["serve", "--help"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--http-listen"));
}

#[test]
fn errors_are_one_line_with_nonzero_status() {
    let dir = TempDir::new("cli_errors");
    let data = dir.path().to_str().unwrap();
    let out = passgrid(&["--data-dir", data, "user", "add", "bad id!"], &[]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).starts_with("passgrid: a user ID is"));

    let out = passgrid(
        &[
            "--data-dir",
            data,
            "cert",
            "issue",
            "nobody",
            "--csr",
            "/nonexistent.csr",
            "--out",
            "x.pem",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert_eq!(stderr(&out).lines().count(), 1);

    let out = passgrid(&["--data-dir", data, "user", "import", "x.csv"], &[]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(stderr(&out).contains("x.csv"), "{}", stderr(&out));

    let out = passgrid(
        &[
            "--data-dir",
            data,
            "--database-url",
            "mysql://x/y",
            "ca",
            "export",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unsupported database URL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_file_and_environment_are_read_and_typos_are_reported() {
    let dir = TempDir::new("cli_config");
    let data = dir.path().join("from-config");
    let config = dir.path().join("passgrid.toml");
    std::fs::write(&config, format!("data_dir = \"{}\"\n", data.display())).unwrap();
    let out = passgrid(
        &[
            "--config",
            config.to_str().unwrap(),
            "--json",
            "ca",
            "export",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["pem"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
    assert!(
        data.join("master.key").exists(),
        "data_dir from the config file was used"
    );

    // The environment beats the file.
    let env_dir = dir.path().join("from-env");
    let out = passgrid(
        &["--config", config.to_str().unwrap(), "ca", "export"],
        &[("PASSGRID_DATA_DIR", env_dir.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env_dir.join("ca.pem").exists());

    std::fs::write(&config, "data_dri = \"x\"\n").unwrap();
    let out = passgrid(&["--config", config.to_str().unwrap(), "ca", "export"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown field"), "{}", stderr(&out));
}

#[test]
fn weak_or_broken_certificate_requests_are_refused_with_a_reason() {
    let dir = TempDir::new("cli_csr");
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    assert!(passgrid(&["--data-dir", d, "user", "add", "carol"], &[])
        .status
        .success());
    let (weak_csr, _) = new_csr(dir.path(), "weak", "rsa:1024");
    let out = passgrid(
        &[
            "--data-dir",
            d,
            "cert",
            "issue",
            "carol",
            "--csr",
            weak_csr.to_str().unwrap(),
            "--out",
            "/dev/null",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("too weak"), "{}", stderr(&out));

    // A request whose signature does not match its key.
    let (good_csr, _) = new_csr(dir.path(), "good", "ec");
    let pem = std::fs::read_to_string(&good_csr).unwrap();
    let der = openssl(&["req", "-in", good_csr.to_str().unwrap(), "-outform", "DER"]).stdout;
    let mut tampered = der.clone();
    let last = tampered.len() - 5;
    tampered[last] ^= 0x55;
    let bad = dir.path().join("tampered.csr");
    std::fs::write(&bad, &tampered).unwrap();
    let out = passgrid(
        &[
            "--data-dir",
            d,
            "cert",
            "issue",
            "carol",
            "--csr",
            bad.to_str().unwrap(),
            "--out",
            "/dev/null",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("signature"), "{}", stderr(&out));
    assert!(pem.contains("CERTIFICATE REQUEST"));

    let garbage = dir.path().join("garbage.csr");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----\n",
    )
    .unwrap();
    let out = passgrid(
        &[
            "--data-dir",
            d,
            "cert",
            "issue",
            "carol",
            "--csr",
            garbage.to_str().unwrap(),
            "--out",
            "/dev/null",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert_eq!(stderr(&out).lines().count(), 1);

    // Unknown user: refused, nothing issued.
    let out = passgrid(
        &[
            "--data-dir",
            d,
            "cert",
            "issue",
            "nobody",
            "--csr",
            weak_csr.to_str().unwrap(),
            "--out",
            "/dev/null",
        ],
        &[],
    );
    assert!(stderr(&out).contains("no user"), "{}", stderr(&out));
}
