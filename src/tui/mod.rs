//! `metallbctl tui`: the live view of the status model (routers, sessions, routes, services,
//! events), after the test-bgp-router page and k9s.
//!
//! ```text
//!  input thread ──Key/Resize──┐
//!  collector ─────Snapshot────┼──> run() ──update(&mut App, Msg)──> draw(&App, &mut Frame)
//!  SIGTERM/SIGINT/SIGHUP ─────┤        └──refresh request──> collector
//!  SIGWINCH ──────Resize──────┘
//! ```
//!
//! - `app`: the state and `update`, the only mutator; no I/O, no clock.
//! - `draw`: pure rendering; builds only the visible rows.
//! - `keymap`, `strings`, `theme`: keys, words and styles, each in one place.
//! - this module: the terminal (raw mode, alternate screen, panic hook, signals) and the loop.
//!
//! The TUI reads only `crate::status`; it never talks to a cluster or a router itself.

pub mod app;
pub mod draw;
pub mod keymap;
pub mod rows;
pub mod strings;
pub mod theme;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{self, Event};
use tokio::sync::{mpsc, watch};

pub use app::{update, App, Msg, Outcome, View};
pub use draw::draw;
pub use theme::Theme;

use crate::status::Snapshot;

/// Where snapshots come from (the collector's watch channel: the newest one wins), and how
/// to ask for one now (`r`).
pub struct Feed {
    pub snapshots: watch::Receiver<Snapshot>,
    pub refresh: Box<dyn Fn() + Send>,
}

/// Leaves raw mode and the alternate screen however `run` ends (return, error, unwind).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        // On a panic, ratatui's hook has already restored the terminal and printed the
        // message. Leaving the alternate screen a second time would restore the cursor saved
        // on entry (`ESC[?1049l`), and the shell prompt would then overwrite the message.
        if !std::thread::panicking() {
            ratatui::restore();
        }
    }
}

/// Take over the terminal and run until `q`, Ctrl-C, SIGTERM, SIGINT, SIGHUP or the end of
/// the feed. The terminal is restored on every way out, panics included (ratatui's hook).
pub async fn run(theme: Theme, mut feed: Feed) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term_sig = signal(SignalKind::terminate())?;
    let mut int_sig = signal(SignalKind::interrupt())?;
    let mut hup_sig = signal(SignalKind::hangup())?;
    let mut winch = signal(SignalKind::window_change())?;

    // The theme decides colours; crossterm must not strip them on its own, or NO_COLOR turns
    // "reset colour" into an empty SGR that also wipes the reverse-video selection.
    crossterm::style::force_color_output(true);
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    let size = terminal.size()?;
    let mut app = App::new(theme, (size.width, size.height));
    // The collector publishes its first snapshot before handing over the channel.
    let first = feed.snapshots.borrow_and_update().clone();
    update(&mut app, Msg::Snapshot(Box::new(first)));

    let panic_key = test_panic_key();
    let (tx, mut input) = mpsc::channel::<Msg>(256);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("tui-input".into())
            .spawn(move || read_input(&tx, &stop))?
    };

    let mut dirty = true;
    let mut feed_open = true;
    loop {
        if dirty {
            frame(&mut terminal, &app)?;
            dirty = false;
        }
        let msg = tokio::select! {
            m = input.recv() => match m {
                Some(m) => m,
                None => break, // the input thread ended: no terminal to read from
            },
            r = feed.snapshots.changed(), if feed_open => match r {
                Ok(()) => Msg::Snapshot(Box::new(feed.snapshots.borrow_and_update().clone())),
                Err(_) => { feed_open = false; continue; }
            },
            _ = term_sig.recv() => break,
            _ = int_sig.recv() => break,
            _ = hup_sig.recv() => break,
            _ = winch.recv() => match crossterm::terminal::size() {
                Ok((w, h)) => Msg::Resize(w, h),
                Err(_) => continue,
            },
        };
        if let (Some(c), Msg::Key(k)) = (panic_key, &msg) {
            if k.code == crossterm::event::KeyCode::Char(c) {
                test_panic(c);
            }
        }
        let mut out = update(&mut app, msg);
        // Coalesce whatever else is already queued into one frame.
        while let Ok(m) = input.try_recv() {
            out = merge(out, update(&mut app, m));
        }
        if out.quit {
            break;
        }
        if out.refresh {
            (feed.refresh)();
        }
        dirty |= out.redraw;
    }
    stop.store(true, Ordering::SeqCst);
    drop(input);
    let _ = reader.join();
    Ok(())
}

/// Test hook, not a user setting: when this environment variable holds one character, pressing
/// that key panics inside the loop, so the end-to-end test (`tests/it/tui_tmux.rs`) can check
/// that a panic gives the terminal back and prints its message. Read only here, once per run;
/// unset (as always outside that test) it changes nothing.
const TEST_PANIC_KEY: &str = "METALLBCTL_TUI_TEST_PANIC_KEY";

/// The one deliberate panic outside tests: the end-to-end test's hook (off unless its variable
/// is set), which proves that a panic gives the terminal back.
#[allow(clippy::panic)]
fn test_panic(c: char) -> ! {
    panic!("test hook: {TEST_PANIC_KEY} key {c:?} pressed");
}

fn test_panic_key() -> Option<char> {
    let v = std::env::var(TEST_PANIC_KEY).ok()?;
    let mut chars = v.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn merge(a: Outcome, b: Outcome) -> Outcome {
    Outcome {
        redraw: a.redraw || b.redraw,
        refresh: a.refresh || b.refresh,
        quit: a.quit || b.quit,
    }
}

/// One frame, inside a synchronized update so the terminal shows it whole (no tearing).
fn frame(terminal: &mut ratatui::DefaultTerminal, app: &App) -> std::io::Result<()> {
    use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    crossterm::queue!(std::io::stdout(), BeginSynchronizedUpdate)?;
    terminal.draw(|f| draw(app, f))?;
    crossterm::execute!(std::io::stdout(), EndSynchronizedUpdate)?;
    std::io::stdout().flush()
}

/// Read keys and resizes until `stop` is set, the receiver is gone or the terminal hangs up
/// (the loop then ends as for `q`); it never wakes the UI unless an event arrived.
///
/// A terminal that went away (tmux killed, ssh dropped) reads as an endless EOF, on which
/// crossterm's `poll` spins without returning. So when stdin is the terminal, this thread
/// waits on stdin itself (with `poll(2)`, which reports the hang-up) and asks crossterm only
/// for what is already readable; resizes then come from SIGWINCH in `run`.
fn read_input(tx: &mpsc::Sender<Msg>, stop: &AtomicBool) {
    // SAFETY: isatty reads one descriptor number.
    let stdin_tty = unsafe { libc::isatty(libc::STDIN_FILENO) } == 1;
    while !stop.load(Ordering::SeqCst) {
        if stdin_tty {
            match wait_stdin(100) {
                Stdin::Gone => return,
                Stdin::Idle => continue,
                Stdin::Ready => {}
            }
        }
        let timeout = if stdin_tty {
            Duration::ZERO
        } else {
            Duration::from_millis(100)
        };
        // Everything crossterm has parsed, which may be more than one event per read.
        loop {
            match event::poll(timeout) {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.blocking_send(msg).is_err() {
                return;
            }
        }
    }
}

enum Stdin {
    Ready,
    Idle,
    Gone,
}

/// Wait up to `ms` for input on stdin (a terminal).
fn wait_stdin(ms: i32) -> Stdin {
    let mut p = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd that lives for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n < 0 {
        return match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::Interrupted => Stdin::Idle,
            _ => Stdin::Gone,
        };
    }
    if p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Stdin::Gone
    } else if n > 0 {
        Stdin::Ready
    } else {
        Stdin::Idle
    }
}

#[cfg(test)]
mod tests;
