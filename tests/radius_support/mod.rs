//! What the RADIUS tests share: a passgrid with its RADIUS server on loopback, NAS
//! devices and users made through passgrid's own command line, a web sign-in and the
//! portal's VPN grid, and the tests' own RADIUS client (`wire`).

#![allow(dead_code)]

pub mod wire;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use integration_tests::*;
use serde_json::{json, Value};

/// The shared secret of the test NAS (16 characters or more, as passgrid asks).
pub const SECRET: &str = "testing123-secret-of-the-nas";
/// Every test user's own pattern (not the initial one).
pub const CELLS: [usize; 6] = [3, 17, 22, 40, 41, 9];

/// A passgrid with RADIUS (UDP and RadSec) on loopback ports.
pub struct Radius {
    pub dir: TempDir,
    pub db: TestDb,
    pub server: TestServer,
    pub udp: SocketAddr,
    pub radsec: SocketAddr,
    auditor: std::sync::OnceLock<String>,
}

/// Runs `passgrid ARGS` on the installation of `data` and `db`; stdout on success.
pub fn cli_on(data: &Path, db: &TestDb, args: &[&str]) -> String {
    let out = std::process::Command::new(passgrid_bin())
        .arg("--data-dir")
        .arg(data)
        .args(db.args())
        .args(args)
        .env("PASSGRID_TEST_CLOCK_FILE", data.join("test-clock-offset"))
        .output()
        .expect("run passgrid");
    assert!(out.status.success(), "passgrid {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

impl Radius {
    /// A fresh installation with the NAS "vpn" at 127.0.0.1 (made before the server
    /// starts, so it is loaded at once) and `auth` lines in `[auth]`.
    pub fn start(kind: Db, prefix: &str, auth: &str) -> Radius {
        Radius::start_with(kind, prefix, auth, |_, _| {})
    }

    /// `start`, with `prepare(data_dir, db)` run before the server starts.
    pub fn start_with(
        kind: Db,
        prefix: &str,
        auth: &str,
        prepare: impl FnOnce(&Path, &TestDb),
    ) -> Radius {
        let dir = TempDir::new(prefix);
        let db = TestDb::new(kind);
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        // The CLI makes the installation (master key, CA) on first use.
        let secret = dir.path().join("nas.secret");
        std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
        cli_on(
            &data,
            &db,
            &[
                "radius",
                "client",
                "add",
                "vpn",
                "--address",
                "127.0.0.1",
                "--secret-file",
                secret.to_str().unwrap(),
            ],
        );
        prepare(&data, &db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(
            &config,
            format!(
                "[radius]\nlisten = \"127.0.0.1:0\"\nradsec_listen = \"127.0.0.1:0\"\n\n[auth]\n{auth}\n"
            ),
        )
        .unwrap();
        let server = TestServer::start_with_config(&data, &db, &config, &[]);
        let udp = server.banner["radius"]
            .as_str()
            .expect("radius address in the banner")
            .parse()
            .unwrap();
        let radsec = server.banner["radsec"]
            .as_str()
            .expect("radsec address")
            .parse()
            .unwrap();
        Radius {
            dir,
            db,
            server,
            udp,
            radsec,
            auditor: Default::default(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cli(&self, args: &[&str]) -> String {
        cli_on(&self.server.data_dir, &self.db, args)
    }

    /// A user with `CELLS` as their own pattern.
    pub fn user(&self, id: &str) {
        add_user(&self.server, id);
        let cells: Vec<String> = CELLS.iter().map(|c| c.to_string()).collect();
        self.cli(&["user", "set-pattern", id, "--cells", &cells.join(",")]);
    }

    /// The test NAS at 127.0.0.1.
    pub fn nas(&self) -> wire::Nas {
        wire::Nas::new("127.0.0.1", self.udp, SECRET)
    }

    /// Signs `user` in on the web (API, grid with `CELLS`); the session is in `jar`.
    pub fn sign_in(&self, user: &str, jar: &Path) {
        let (status, start) = post_json(
            &self.server,
            "/api/v1/auth/start",
            &json!({"user": user}),
            jar,
        );
        assert_eq!(status, 200, "{start}");
        let cells: Vec<u64> = CELLS.iter().map(|&c| c as u64).collect();
        let otp = otp_from(&start, &cells);
        let (status, done) = post_json(
            &self.server,
            "/api/v1/auth/verify",
            &json!({"challenge": start["challenge"], "otp": otp}),
            jar,
        );
        assert_eq!(status, 200, "{done}");
        // A page visit gives the jar its CSRF cookie.
        let jar_s = jar.to_str().unwrap();
        let (status, _) = self.server.curl("/me", &["-b", jar_s, "-c", jar_s]);
        assert_eq!(status, 200);
    }

    /// The portal's VPN grid for the signed-in user of `jar` (the JSON route): (status,
    /// answer).
    pub fn vpn_grid(&self, jar: &Path) -> (u16, Value) {
        let csrf = format!("X-CSRF-Token: {}", jar_cookie(jar, "passgrid_csrf"));
        let jar_s = jar.to_str().unwrap();
        let (status, body) = self.server.curl(
            "/api/v1/me/vpn-grid",
            &["-X", "POST", "-b", jar_s, "-c", jar_s, "-H", &csrf],
        );
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }

    /// The OTP of the VPN grid the portal gives now.
    pub fn vpn_otp(&self, jar: &Path) -> String {
        let (status, grid) = self.vpn_grid(jar);
        assert_eq!(status, 200, "{grid}");
        wire::otp_at(grid["grid"]["digits"].as_str().unwrap(), &CELLS)
    }

    pub fn metrics(&self) -> String {
        let (status, text) = self.server.curl("/metrics", &[]);
        assert_eq!(status, 200);
        text
    }

    /// The audit log's rows of `action`, as the API's JSON (an auditor's token).
    pub fn audit(&self, action: &str) -> Vec<Value> {
        let token = self
            .auditor
            .get_or_init(|| admin_token(&self.server, "radius-auditor", "auditor"));
        let (status, body) = api(
            &self.server,
            "GET",
            &format!("/api/v1/admin/audit?action={action}&limit=500"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["entries"].as_array().cloned().unwrap_or_default()
    }
}

/// A cookie's value from a curl cookie jar.
pub fn jar_cookie(jar: &Path, name: &str) -> String {
    std::fs::read_to_string(jar)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 7 && f[5] == name).then(|| f[6].to_string())
        })
        .next()
        .unwrap_or_else(|| panic!("no {name} cookie in the jar"))
}

/// Whether a command is installed (the test command installs them all).
pub fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}
