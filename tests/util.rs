//! A small builder for running the binary: `Test::new().args([...]).file(..).run()`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub const NOW: &str = "2026-11-25T19:30:00+00:00";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_trustguide")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub struct Test {
    dir: TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

impl Test {
    pub fn new() -> Test {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let home = dir.path().join("home");
        Test {
            args: Vec::new(),
            env: vec![
                ("TRUSTGUIDE_HOME".into(), home.display().to_string()),
                ("TRUSTGUIDE_NOW".into(), NOW.into()),
                ("NO_COLOR".into(), "1".into()),
            ],
            dir,
            stdin: None,
        }
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Test {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the run (and for `then`).
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// What the run reads on standard input (nothing when not given).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Test {
        self.stdin = Some(input.into());
        self
    }

    /// Writes a file into the test's folder (the working directory of the run).
    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Test {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(path, contents).expect("write file");
        self
    }

    pub fn run(self) -> Output {
        let mut cmd = Command::new(binary());
        cmd.args(&self.args)
            .current_dir(self.dir.path())
            .env_remove("TRUSTGUIDE_REGION");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        // No terminal: headless runs must not need one.
        let out = match &self.stdin {
            None => cmd
                .stdin(std::process::Stdio::null())
                .output()
                .expect("the binary runs"),
            Some(input) => {
                use std::io::Write;
                let mut child = cmd
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("the binary runs");
                let mut pipe = child.stdin.take().expect("a stdin pipe");
                let input = input.clone();
                let writer = std::thread::spawn(move || pipe.write_all(&input));
                let out = child.wait_with_output().expect("the binary runs");
                writer
                    .join()
                    .expect("the writer thread")
                    .expect("stdin written");
                out
            }
        };
        Output {
            env: self.env,
            command: format!("trustguide {}", self.args.join(" ")),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            dir: self.dir,
        }
    }
}

pub struct Output {
    env: Vec<(String, String)>,
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub dir: TempDir,
}

impl Output {
    /// Runs another command in the same folder, with the same trustguide home.
    pub fn then<I: IntoIterator<Item = S>, S: AsRef<str>>(self, args: I) -> Output {
        Test {
            dir: self.dir,
            args: Vec::new(),
            env: self.env,
            stdin: None,
        }
        .args(args)
        .run()
    }

    /// Like [`Output::then`], with one environment variable changed from here on.
    pub fn env_then<I: IntoIterator<Item = S>, S: AsRef<str>>(
        self,
        key: &str,
        value: &str,
        args: I,
    ) -> Output {
        Test {
            dir: self.dir,
            args: Vec::new(),
            env: self.env,
            stdin: None,
        }
        .env(key, value)
        .args(args)
        .run()
    }

    /// Writes a file into the folder.
    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Output {
        std::fs::write(self.dir.path().join(name), contents).expect("write file");
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn context(&self) -> String {
        format!(
            "command: {}\nfolder: {}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.dir.path().display(),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    pub fn code(self, expected: i32) -> Output {
        assert_eq!(
            self.code,
            Some(expected),
            "unexpected exit code\n{}",
            self.context()
        );
        self
    }

    pub fn stderr_has(self, needle: &str) -> Output {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    /// A diagnostic, written `file:line:col: error: message` (the start of the message is
    /// enough), among those printed on stderr; see [`diagnostics`].
    pub fn has_diagnostic(self, expected: &str) -> Output {
        let found = diagnostics(&self.stderr);
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "no diagnostic {expected:?} among {found:#?}\n{}",
            self.context()
        );
        self
    }

    pub fn stdout_has(self, needle: &str) -> Output {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    /// A message on stderr that says what went wrong, and never a panic.
    pub fn error_without_panic(self) -> Output {
        assert!(
            !self.stderr.contains("panicked"),
            "the program panicked\n{}",
            self.context()
        );
        assert!(
            !self.stderr.trim().is_empty(),
            "no message at all\n{}",
            self.context()
        );
        self
    }

    pub fn transcript(&self, name: &str) -> serde_json::Value {
        let path = self.dir.path().join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "no transcript at {}: {e}\n{}",
                path.display(),
                self.context()
            )
        });
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("transcript is not JSON: {e}\n{text}"))
    }

    pub fn has_file(&self, name: &str) -> bool {
        self.dir.path().join(name).exists()
    }
}

/// The diagnostics in `check`'s (or `run`'s) report, each read back from its title and place
/// (`error[E0201]: message` / `--> file:line:col`) as `file:line:col: error: message`.
pub fn diagnostics(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((kind, rest)) = line
            .strip_prefix("error[")
            .map(|r| ("error", r))
            .or_else(|| line.strip_prefix("warning[").map(|r| ("warning", r)))
        else {
            continue;
        };
        let Some((_, message)) = rest.split_once("]: ") else {
            continue;
        };
        let place = lines
            .get(i + 1)
            .and_then(|l| l.trim_start().strip_prefix("--> "))
            .unwrap_or("?");
        found.push(format!("{place}: {kind}: {message}"));
    }
    found
}
