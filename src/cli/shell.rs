//! What the long-running commands share at the edge: the tokio runtime, logging to stderr, and
//! waiting for Ctrl-C or SIGTERM. Every command (`bgp`, `controller`, `speaker`, `lab`,
//! `install`) sets these up here and nowhere else.

use anyhow::{Context, Result};

/// The runtime every async command runs on: two worker threads.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How log lines to stderr look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    /// For a person at a terminal: no module path, colour when stderr is a terminal.
    Terminal,
    /// For a daemon's log file (`lab up`): with the module path, never colour.
    Daemon,
}

/// Send `tracing` output at INFO and above to stderr (once per process; later calls do nothing).
pub fn init_logging(style: LogStyle) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO);
    let _ = match style {
        LogStyle::Terminal => builder
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogStyle::Daemon => builder.with_ansi(false).try_init(),
    };
}

/// Wait for Ctrl-C (SIGINT) or SIGTERM, watched from the first poll; build [`StopSignals`]
/// up front instead when a signal may arrive before the wait begins.
pub async fn stop_signal() -> Result<()> {
    StopSignals::watch()?.recv().await;
    Ok(())
}

/// Ctrl-C (SIGINT) and SIGTERM, watched from the moment this is built: a signal that arrives
/// before the caller waits is not lost, and does not kill the process.
pub struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Start watching; needs a tokio runtime.
    pub fn watch() -> Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt()).context("cannot watch Ctrl-C")?,
            term: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
        })
    }

    /// Wait for either signal.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

/// A receiver that becomes `true` on Ctrl-C or SIGTERM (only Ctrl-C if SIGTERM cannot be
/// watched).
pub fn shutdown_on_ctrl_c() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if stop_signal().await.is_err() {
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = tx.send(true);
    });
    rx
}
