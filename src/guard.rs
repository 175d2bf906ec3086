//! A bound on what one template may take while a session runs: half a second, and 64 MB.
//!
//! Fuel bounds how many instructions a template runs, but not what one instruction does:
//! `[[1] * 100000] * 100000` is two instructions and a hundred million items to show, and
//! `{% set b = a ~ a %}` doubles a text with one. `check` refuses what it can see
//! (a text or list repeated more than 1,000 times, E0407), but a count or a text that comes from an answer is
//! only known at run time, and minijinja cannot be stopped from outside in the middle of an
//! instruction. So the work is watched from outside:
//!
//! - every render and expression the engine runs is a [`scope`], which notes the time it
//!   started and counts what the thread allocates in it;
//! - [`BudgetAllocator`], installed as the program's global allocator, ends the process the
//!   moment a scope's allocations pass [`MEMORY_LIMIT`];
//! - [`watch`] starts a thread that ends the process when a scope has run longer than
//!   [`TIME_LIMIT`].
//!
//! Ending the process is the only way out of a runaway instruction, and it loses nothing:
//! every answer is committed before the next text is rendered, a transcript is written to a
//! temporary file that is removed ([`remove_on_abort`]), and the session's claim is seen to
//! be stale by the next `resume`. The message says which step and what to do, and the exit
//! code is 1.
//!
//! The `trustguide` binary installs both. An embedder that wants the same bound installs
//! `BudgetAllocator` as its `#[global_allocator]` and calls [`watch`]; without them, scopes
//! cost a few thread-local writes and bound nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most one template may allocate (and keep) while it renders.
pub const MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// The longest one template may take to render.
pub const TIME_LIMIT: Duration = Duration::from_millis(500);

thread_local! {
    /// Bytes allocated and not yet freed by this thread inside the current scope, when there
    /// is one (`None` outside a scope).
    static USED: Cell<Option<isize>> = const { Cell::new(None) };
    /// What to say if the current scope has to be stopped, written before it starts (the
    /// allocator cannot allocate to word it).
    static MESSAGE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// When the running scope started, in milliseconds after [`epoch`] plus one (0: none).
static STARTED: AtomicU64 = AtomicU64::new(0);
/// The running scope's message, for the watching thread.
static WATCHED_MESSAGE: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Files to remove when the process has to end (temporary transcripts).
static REMOVE: Mutex<Vec<CString>> = Mutex::new(Vec::new());

fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Runs `f` (one render or expression) as a guarded scope. `at` words where it is, such as
/// "flows/listening.yaml:12: step `reflect`", for the message if it has to be stopped. The
/// message is written into buffers kept from the last scope, so a scope allocates nothing
/// once they are large enough.
pub fn scope<T>(at: std::fmt::Arguments<'_>, f: impl FnOnce() -> T) -> T {
    if USED.with(Cell::get).is_some() {
        // Nested (a template inside an expression): the outer scope already counts it.
        return f();
    }
    MESSAGE.with(|m| {
        use std::io::Write;
        let mut m = m.borrow_mut();
        m.clear();
        let _ = writeln!(
            m,
            "error: {at}: the text took more than {} MB or {:.1} seconds to build, so trustguide \
             stopped. Every answer before it is saved; fix the template (`trustguide check` shows \
             templates it can tell are too big), then `trustguide resume`.",
            MEMORY_LIMIT / (1024 * 1024),
            TIME_LIMIT.as_secs_f64()
        );
        if let Ok(mut watched) = WATCHED_MESSAGE.lock() {
            watched.clear();
            watched.extend_from_slice(&m);
        }
    });
    let since = epoch().elapsed().as_millis() as u64 + 1;
    STARTED.store(since, Ordering::SeqCst);
    USED.with(|u| u.set(Some(0)));
    let result = f();
    USED.with(|u| u.set(None));
    STARTED.store(0, Ordering::SeqCst);
    result
}

/// Removes `path` if the process has to end in a scope (a transcript's temporary file).
pub fn remove_on_abort(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    if let (Ok(c), Ok(mut list)) = (CString::new(path.as_os_str().as_bytes()), REMOVE.lock()) {
        list.push(c);
    }
}

/// Ends the process after a runaway scope: the message, the temporary files, exit code 1.
/// Allocates nothing.
fn abort(message: &[u8]) -> ! {
    let _ = nix::unistd::write(std::io::stderr(), message);
    if let Ok(list) = REMOVE.try_lock() {
        for path in list.iter() {
            let _ = nix::unistd::unlink(path.as_c_str());
        }
    }
    // SAFETY: `_exit` ends the process at once; nothing of this process runs after it.
    unsafe { libc::_exit(1) }
}

/// Starts the thread that ends the process when a scope runs longer than [`TIME_LIMIT`].
pub fn watch() {
    let _ = epoch();
    let _ = std::thread::Builder::new()
        .name("template-watch".into())
        .spawn(|| loop {
            std::thread::sleep(Duration::from_millis(20));
            let started = STARTED.load(Ordering::SeqCst);
            if started == 0 {
                continue;
            }
            let now = epoch().elapsed().as_millis() as u64 + 1;
            if now.saturating_sub(started) > TIME_LIMIT.as_millis() as u64 {
                let message = WATCHED_MESSAGE
                    .lock()
                    .map(|m| m.clone())
                    .unwrap_or_default();
                abort(&message);
            }
        });
}

/// The system allocator, counting what a guarded scope allocates and ending the process when
/// it passes [`MEMORY_LIMIT`] (see the module docs).
pub struct BudgetAllocator;

impl BudgetAllocator {
    fn count(&self, delta: isize) {
        let over = USED
            .try_with(|u| match u.get() {
                Some(used) => {
                    let used = used.saturating_add(delta);
                    u.set(Some(used));
                    used > MEMORY_LIMIT as isize
                }
                None => false,
            })
            .unwrap_or(false);
        if over {
            // Out of the scope first, so that nothing below counts again.
            let _ = USED.try_with(|u| u.set(None));
            let _ = MESSAGE.try_with(|m| match m.try_borrow() {
                Ok(message) => abort(&message),
                Err(_) => abort(b"error: a template took too much memory; trustguide stopped\n"),
            });
            abort(b"error: a template took too much memory; trustguide stopped\n");
        }
    }
}

// SAFETY: every call goes straight to the system allocator with the same arguments; the
// counting around it touches only a thread-local cell and, past the limit, ends the process
// without allocating or unwinding.
unsafe impl GlobalAlloc for BudgetAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size() as isize);
        // SAFETY: the caller's layout, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.count(-(layout.size() as isize));
        // SAFETY: `ptr` came from this allocator, which is the system's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count(new_size as isize - layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
