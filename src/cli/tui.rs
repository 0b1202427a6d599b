//! `metallbctl tui`: the live terminal view of what MetalLB intends, what its speakers send and
//! what every router holds. Same sources and flags as `status`; the screen is `crate::tui`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::status::{collector, SourceArgs};
use super::{GlobalArgs, EXIT_TROUBLE};
use crate::tui::{self, strings, Theme};

/// `metallbctl tui`.
#[derive(Debug, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Seconds between polls (`r` polls at once). The default keeps a route change on screen
    /// within a second; raise it for routers with large tables.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    pub interval: f64,
}

/// Run the TUI until `q`, Ctrl-C or SIGTERM. Exit 2 when stdout is not a terminal.
pub fn run(global: &GlobalArgs, args: TuiArgs) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() {
        eprintln!("{}", strings::NOT_A_TERMINAL);
        return Ok(ExitCode::from(EXIT_TROUBLE));
    }
    let every = super::status::interval(args.interval)?;
    // NO_COLOR or --color never: the monochrome theme, not stripped colours.
    let theme = if global.use_color(true) {
        Theme::COLOR
    } else {
        Theme::MONO
    };
    let rt = super::shell::runtime()?;
    let result = rt.block_on(async {
        let (c, listeners) = collector(&args.source).await?;
        let feed = Arc::new(c.spawn(every).await);
        let snapshots = feed.snapshots.clone();
        let refresher = feed.clone();
        let result = tui::run(
            theme,
            tui::Feed {
                snapshots,
                refresh: Box::new(move || refresher.refresh()),
            },
        )
        .await;
        if let Ok(feed) = Arc::try_unwrap(feed) {
            feed.stop();
        }
        for l in listeners {
            if let Ok(l) = Arc::try_unwrap(l) {
                l.shutdown().await;
            }
        }
        result
    });
    // Source calls still in flight are bounded by --timeout; do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(200));
    result.map(|()| ExitCode::SUCCESS)
}
