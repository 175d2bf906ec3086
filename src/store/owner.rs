//! Who has a session open: one trustguide at a time.
//!
//! Two trustguides going on with one session at once would both delete what the other wrote
//! after the last saved answer, interleave their answers and finish the session twice. So a
//! session has an owner: the process that started or resumed it. The claim is taken in the
//! same immediate transaction that reopens the session, and every later write checks it, so
//! a second trustguide is told the session is open elsewhere before it deletes or writes
//! anything, and a trustguide whose session was taken over stops at its next write.
//!
//! A claim names the process (its id, when it started, and the machine's boot and host name),
//! so a claim left by a process that was killed is seen to be stale and never locks a session
//! for ever: on this machine, a claim whose process is gone, or whose process id now belongs
//! to a later process, is simply taken. A claim from another machine (a data folder on a
//! shared disk) cannot be checked from here; `resume --take-over` takes it.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The process holding a session, as stored in the `owner` column (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The process id.
    pub pid: u32,
    /// When the process started, in clock ticks after boot (`/proc/<pid>/stat`, field 22), so a
    /// process id reused by a later process is told apart. 0 where it cannot be read.
    pub start: u64,
    /// The boot the process belongs to (`/proc/sys/kernel/random/boot_id`); empty where unknown.
    pub boot: String,
    /// The machine's host name; empty where unknown.
    pub host: String,
    /// When the session was claimed, as RFC 3339 text.
    pub since: String,
    /// Which open store in the process holds it (two stores in one process are two owners).
    pub token: String,
}

impl Owner {
    /// This process's store `token`, claiming at `now`.
    pub fn this_process(token: &str, now: DateTime<FixedOffset>) -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            start: process_start(pid).unwrap_or(0),
            boot: read_trimmed("/proc/sys/kernel/random/boot_id"),
            host: host_name(),
            since: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            token: token.to_owned(),
        }
    }

    /// A token no other open store has: the process, and a random number.
    pub fn new_token() -> String {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        format!("{:016x}", h.finish())
    }

    /// Whether this owner may still be using the session. On this machine and this boot, that
    /// is whether its process still runs (and is the same process); an owner on another
    /// machine cannot be checked and counts as alive.
    pub fn is_alive(&self) -> bool {
        let here = host_name();
        if !self.host.is_empty() && !here.is_empty() && self.host != here {
            return true;
        }
        let boot = read_trimmed("/proc/sys/kernel/random/boot_id");
        if !self.boot.is_empty() && !boot.is_empty() && self.boot != boot {
            return false;
        }
        let Ok(pid) = i32::try_from(self.pid) else {
            return false;
        };
        let exists = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
            Ok(()) => true,
            // It exists but belongs to another user: still a live process.
            Err(nix::errno::Errno::EPERM) => true,
            Err(_) => false,
        };
        if !exists {
            return false;
        }
        match (self.start, process_start(self.pid)) {
            (0, _) | (_, None) => true,
            (start, Some(now)) => start == now,
        }
    }

    /// When the claim was taken, for a person: `10:42` today's way, with the date.
    pub fn since_words(&self) -> String {
        match DateTime::parse_from_rfc3339(&self.since) {
            Ok(t) => t.format("%H:%M on %-d %b").to_string(),
            Err(_) => "an unknown time".to_owned(),
        }
    }

    /// The claim as the store keeps it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The start time of process `pid` in clock ticks after boot, where `/proc` tells it.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: state is field 3, so starttime (field 22) is the 20th from here.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn host_name() -> String {
    let name = read_trimmed("/proc/sys/kernel/hostname");
    if name.is_empty() {
        read_trimmed("/etc/hostname")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-03T10:42:00+00:00").expect("a time")
    }

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        let me = Owner::this_process(&Owner::new_token(), now());
        assert!(me.is_alive());
        assert_eq!(me.since_words(), "10:42 on 3 Dec");
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        let gone = Owner { pid, ..me.clone() };
        assert!(!gone.is_alive(), "a process that has ended holds nothing");
        // The same process id, started at another moment: a later process, not the owner.
        let reused = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        assert!(!reused.is_alive());
        let other_machine = Owner {
            host: format!("{}-elsewhere", me.host),
            pid,
            ..me
        };
        assert!(other_machine.is_alive(), "cannot be checked from here");
    }
}
