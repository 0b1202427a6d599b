//! Every sentence the TUI shows, in one place.

use crate::status::DriftKind;

pub const APP: &str = "metallbctl tui";
pub const NOT_A_TERMINAL: &str = "metallbctl tui needs a terminal, and stdout is not one.\n\
     For the same information as text, JSON or YAML, run `metallbctl status` (or `metallbctl routes`).";
pub const WAITING: &str = "Waiting for the first refresh …";
pub const REFRESHING: &str = "refresh requested";
pub const NO_ROUTERS: &str = "No routers known. Name one with --router NAME=bird:/path/to/bird.ctl (or frr, gobgp:ADDR, listen:IP:PORT,as=N), or start the lab.";
pub const NO_ROUTERS_FAULTS: &str = "No router has a fault (f shows every router).";
pub const GIVING_ROUTES: &str = "MetalLB gives me routes to:";
pub const NO_ROUTES: &str = "(none)";
pub const NO_ROWS: &str = "Nothing to show.";
pub const NO_ROWS_FILTERED: &str =
    "Nothing matches (esc clears the filter, f toggles faults only).";
pub const NO_RAW: &str = "This router gives no raw output.";
pub const RAW_HINT: &str = " j/k scroll · esc closes ";
pub const WHY_TITLE: &str = " why not advertised? ";
pub const WHY_ALL_GOOD: &str = "Advertised: every announcement it should have is carried by an Established session and held where the router is known.";
pub const WHY_HINT: &str = " esc closes ";
pub const HELP_TITLE: &str = " keys ";
pub const CONFIG_ACCEPTED: &str = "config accepted";
pub const CONFIG_UNKNOWN: &str = "config unknown";
pub const CONFIG_REJECTED: &str = "CONFIG REJECTED";
pub const FAULTS_ONLY: &str = "[faults only]";
pub const HINTS: &[(&str, &str)] = &[
    ("?", "help"),
    ("tab", "view"),
    ("/", "filter"),
    ("f", "faults"),
    ("r", "refresh"),
    (":", "jump"),
    ("q", "quit"),
];
pub const ROUTER_HINTS: &[(&str, &str)] = &[("h/l", "router"), ("o", "raw output")];
pub const SERVICE_HINTS: &[(&str, &str)] = &[("enter", "why not advertised?")];

/// The TUI's column between ADVERTISED and LAST ERROR of `status::sessions::COLUMNS`.
pub const FLAPS_COLUMN: &str = "FLAPS 10m";
pub const SERVICE_COLUMNS: [&str; 6] = [
    "SERVICE",
    "ADDRESSES",
    "POOL",
    "POLICY",
    "ANNOUNCED",
    "DRIFT",
];
pub const EVENT_COLUMNS: [&str; 6] = ["TYPE", "REASON", "OBJECT", "COUNT", "AGE", "MESSAGE"];
pub const ROUTE_DRIFT_COLUMN: &str = "DRIFT";

pub fn unknown_view(text: &str) -> String {
    format!("no view {text:?}: try routers, sessions, routes, services or events")
}

pub fn sessions_up(up: usize, total: usize) -> String {
    format!("sessions {up}/{total} up")
}

pub fn drift_count(n: usize) -> String {
    match n {
        0 => "no drift".to_string(),
        1 => "1 drift".to_string(),
        n => format!("{n} drifts"),
    }
}

pub fn updated(hms: &str) -> String {
    format!("updated {hms} UTC")
}

pub fn source_failed(name: &str, error: &str, age: &str, last_ok: Option<&str>) -> String {
    match last_ok {
        Some(ok) => format!("source {name} failing for {age} (last ok {ok} ago): {error}"),
        None => format!("source {name} failing for {age}, never read: {error}"),
    }
}

pub fn more_panels(left: usize, right: usize) -> String {
    format!("◀ {left} · {right} ▶")
}

pub fn rejected(by: &str, message: &str) -> String {
    if by.is_empty() {
        format!("{CONFIG_REJECTED}: {message}")
    } else {
        format!("{CONFIG_REJECTED} ({by}): {message}")
    }
}

/// A short word for a drift kind, for table cells.
pub fn drift_word(k: DriftKind) -> &'static str {
    match k {
        DriftKind::NotAnnounced => "not announced",
        DriftKind::NotHeld => "not held",
        DriftKind::Stale => "stale",
        DriftKind::WrongNextHop => "wrong next hop",
        DriftKind::RoutersDisagree => "routers differ",
        DriftKind::SessionDown => "session down",
        DriftKind::ConfigRejected => "config rejected",
    }
}
