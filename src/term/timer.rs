//! Waiting for Enter with a time limit, for timed turns.

use std::io::{self, BufRead};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Waits until Enter is pressed on standard input or `limit` passes, calling `tick` with the
/// time left about once a second. Returns whether Enter ended the wait.
pub fn wait_for_enter(
    limit: Duration,
    mut tick: impl FnMut(Duration) -> io::Result<()>,
) -> io::Result<bool> {
    let start = Instant::now();
    let stdin = io::stdin();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= limit {
            return Ok(false);
        }
        let left = limit - elapsed;
        tick(left)?;
        // Wake on the next whole second so the countdown ticks evenly.
        let until_tick = left.as_millis() % 1000;
        let wait = if until_tick == 0 { 1000 } else { until_tick } as u16;
        let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(wait)) {
            Ok(0) => continue,
            Ok(_) => {
                let mut line = String::new();
                stdin.lock().read_line(&mut line)?;
                return Ok(true);
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// `m:ss`.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs() + u64::from(d.subsec_millis() > 0);
    format!("{}:{:02}", secs / 60, secs % 60)
}
