//! The application state and its only mutator, [`update`]. Everything the event loop learns
//! (keys, resizes, snapshots) arrives as a [`Msg`]; `update` changes the state and says what
//! the loop should do next ([`Outcome`]). No I/O, no clock: ages are counted from the
//! snapshot's `taken_at_ms`.

use std::cmp::Ordering;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::keymap::{self, Action};
use super::rows::{self, RouteRow, SessionRow};
use super::strings;
use super::theme::Theme;
use crate::status::{Level, Snapshot};

/// The views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Routers,
    Sessions,
    Routes,
    Services,
    Events,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Routers,
        View::Sessions,
        View::Routes,
        View::Services,
        View::Events,
    ];

    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    pub fn name(self) -> &'static str {
        match self {
            View::Routers => "routers",
            View::Sessions => "sessions",
            View::Routes => "routes",
            View::Services => "services",
            View::Events => "events",
        }
    }

    /// The view a `:` command names: a prefix of its name, or an alias (`svc`, `ev`, `peers`).
    pub fn parse(cmd: &str) -> Option<View> {
        let c = cmd.trim().to_ascii_lowercase();
        if c.is_empty() {
            return None;
        }
        let alias = match c.as_str() {
            "svc" => Some(View::Services),
            "peers" | "bgp" => Some(View::Sessions),
            _ => None,
        };
        alias
            .or_else(|| View::ALL.into_iter().find(|v| v.name() == c))
            .or_else(|| View::ALL.into_iter().find(|v| v.name().starts_with(&c)))
    }
}

/// What keys are typed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a `/` filter.
    Filter,
    /// Typing a `:` command.
    Command,
}

/// A window over the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    /// The selected router's raw output.
    Raw,
    /// "Why not advertised?" for the selected service.
    Why,
}

/// Routes-table columns that can be sorted, with their Shift-letter.
pub const SORT_KEYS: [(char, &str); 7] = [
    ('P', "PREFIX"),
    ('N', "NEXT HOP"),
    ('A', "AS PATH"),
    ('L', "LPREF"),
    ('C', "COMMUNITIES"),
    ('T', "AGE"),
    ('H', "HELD BY"),
];

/// Everything the loop hands to [`update`].
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    Snapshot(Box<Snapshot>),
}

/// What the loop should do after an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub redraw: bool,
    pub refresh: bool,
    pub quit: bool,
}

/// Per-view selection and scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub struct App {
    pub theme: Theme,
    /// Terminal size (columns, rows), for paging and scrolling.
    pub size: (u16, u16),
    /// The latest snapshot; `None` until the first refresh arrives.
    pub snap: Option<Snapshot>,
    pub view: View,
    pub mode: Mode,
    pub overlay: Overlay,
    /// Text being typed after `/` or `:`.
    pub input: String,
    /// The applied filter, per view (`!text` inverts).
    pub filters: [String; 5],
    pub cursors: [Cursor; 5],
    /// The selected router panel.
    pub router: usize,
    /// Scroll of the raw-output window.
    pub raw_scroll: usize,
    pub faults_only: bool,
    /// Routes sort column letter and direction.
    pub sort: (char, bool),
    /// A one-line notice (unknown command, refresh asked).
    pub notice: Option<String>,
    // Derived, rebuilt on every snapshot or filter change; drawing only reads them.
    pub route_rows: Vec<RouteRow>,
    pub session_rows: Vec<SessionRow>,
    /// Sessions Established, among `session_rows`.
    pub sessions_up: usize,
    /// Visible row indices per table view, after faults-only, filter and sort.
    pub routes_shown: Vec<usize>,
    pub sessions_shown: Vec<usize>,
    pub services_shown: Vec<usize>,
    pub events_shown: Vec<usize>,
    /// Visible routers (indices into `snap.routers`).
    pub routers_shown: Vec<usize>,
    pub service_drift: std::collections::HashMap<String, Vec<crate::status::DriftKind>>,
}

impl App {
    pub fn new(theme: Theme, size: (u16, u16)) -> App {
        App {
            theme,
            size,
            snap: None,
            view: View::Routers,
            mode: Mode::Normal,
            overlay: Overlay::None,
            input: String::new(),
            filters: Default::default(),
            cursors: Default::default(),
            router: 0,
            raw_scroll: 0,
            faults_only: false,
            sort: ('P', false),
            notice: None,
            route_rows: Vec::new(),
            session_rows: Vec::new(),
            sessions_up: 0,
            routes_shown: Vec::new(),
            sessions_shown: Vec::new(),
            services_shown: Vec::new(),
            events_shown: Vec::new(),
            routers_shown: Vec::new(),
            service_drift: Default::default(),
        }
    }

    /// "now" for ages: the snapshot's time.
    pub fn now_ms(&self) -> u64 {
        self.snap.as_ref().map_or(0, |s| s.taken_at_ms)
    }

    pub fn cursor(&self) -> Cursor {
        self.cursors[self.view.index()]
    }

    /// How many rows the current view has after filtering.
    pub fn row_count(&self) -> usize {
        match self.view {
            View::Routers => self.routers_shown.len(),
            View::Sessions => self.sessions_shown.len(),
            View::Routes => self.routes_shown.len(),
            View::Services => self.services_shown.len(),
            View::Events => self.events_shown.len(),
        }
    }

    /// The selected router (in the routers view), if any.
    pub fn selected_router(&self) -> Option<&crate::status::RouterView> {
        let i = *self.routers_shown.get(self.router)?;
        self.snap.as_ref()?.routers.get(i)
    }

    pub fn selected_service(&self) -> Option<&crate::status::ServiceIntent> {
        let i = *self
            .services_shown
            .get(self.cursors[View::Services.index()].selected)?;
        self.snap.as_ref()?.services.get(i)
    }

    /// Table body rows on screen for the current size (see `draw::layout`).
    pub fn page(&self) -> usize {
        super::draw::table_rows(self)
    }

    fn rebuild(&mut self) {
        let Some(snap) = &self.snap else { return };
        self.route_rows = rows::route_rows(snap);
        self.session_rows = rows::session_rows(snap);
        self.sessions_up = self
            .session_rows
            .iter()
            .filter(|r| r.session.state.is_up())
            .count();
        self.service_drift = rows::service_drift(snap);
        self.refilter();
    }

    /// Recompute the visible rows of every view, keeping selections in range.
    fn refilter(&mut self) {
        let Some(snap) = &self.snap else { return };
        let faults = self.faults_only;
        let f = |v: View| Filter::new(&self.filters[v.index()]);

        let flt = f(View::Routes);
        let mut routes: Vec<usize> = (0..self.route_rows.len())
            .filter(|&i| {
                let r = &self.route_rows[i];
                (!faults || !r.drift.is_empty()) && flt.matches(&r.haystack)
            })
            .collect();
        let (key, rev) = self.sort;
        let rr = &self.route_rows;
        routes.sort_by(|&a, &b| {
            let o = compare_routes(&rr[a], &rr[b], key);
            if rev {
                o.reverse()
            } else {
                o
            }
        });
        self.routes_shown = routes;

        let flt = f(View::Sessions);
        self.sessions_shown = (0..self.session_rows.len())
            .filter(|&i| {
                let s = &self.session_rows[i];
                (!faults || s.session.is_fault()) && flt.matches(&s.haystack)
            })
            .collect();

        let flt = f(View::Services);
        self.services_shown = (0..snap.services.len())
            .filter(|&i| {
                let s = &snap.services[i];
                let bad = self
                    .service_drift
                    .get(&s.key())
                    .is_some_and(|d| !d.is_empty())
                    || s.addresses.is_empty();
                (!faults || bad) && flt.matches(&rows::service_haystack(s))
            })
            .collect();

        let flt = f(View::Events);
        self.events_shown = (0..snap.events.len())
            .filter(|&i| {
                let e = &snap.events[i];
                (!faults || e.type_ != "Normal") && flt.matches(&rows::event_haystack(e))
            })
            .collect();

        let flt = f(View::Routers);
        self.routers_shown = (0..snap.routers.len())
            .filter(|&i| {
                let r = &snap.routers[i];
                let bad = crate::status::router_verdict(snap, r).level != Level::Ok;
                (!faults || bad) && flt.matches(&r.name.to_lowercase())
            })
            .collect();
        self.router = self.router.min(self.routers_shown.len().saturating_sub(1));

        for v in View::ALL {
            let n = match v {
                View::Routers => usize::MAX, // routers view scrolls the selected panel's routes
                View::Sessions => self.sessions_shown.len(),
                View::Routes => self.routes_shown.len(),
                View::Services => self.services_shown.len(),
                View::Events => self.events_shown.len(),
            };
            let c = &mut self.cursors[v.index()];
            c.selected = c.selected.min(n.saturating_sub(1));
        }
        let page = self.page();
        for c in &mut self.cursors {
            scroll_into_view(c, page);
        }
    }

    fn move_by(&mut self, delta: isize) {
        let n = match self.view {
            View::Routers => self.selected_router().map_or(0, |r| r.routes.len()),
            _ => self.row_count(),
        };
        let page = self.page();
        let c = &mut self.cursors[self.view.index()];
        let max = n.saturating_sub(1);
        c.selected = if delta < 0 {
            c.selected.saturating_sub(delta.unsigned_abs())
        } else {
            c.selected.saturating_add(delta as usize).min(max)
        };
        scroll_into_view(c, page);
    }

    /// Select row `i` of the current view (clamped), scrolling it into view.
    pub fn select(&mut self, i: usize) {
        let cur = self.cursor().selected as isize;
        self.move_by(i as isize - cur);
    }
}

/// Keep the selection inside the window of `page` rows.
fn scroll_into_view(c: &mut Cursor, page: usize) {
    let page = page.max(1);
    if c.selected < c.offset {
        c.offset = c.selected;
    } else if c.selected >= c.offset + page {
        c.offset = c.selected + 1 - page;
    }
}

fn compare_routes(a: &RouteRow, b: &RouteRow, key: char) -> Ordering {
    let primary = match key {
        'N' => a.next_hop.cmp(&b.next_hop),
        'A' => a.as_path.cmp(&b.as_path),
        'L' => a.local_pref.cmp(&b.local_pref),
        'C' => a.communities.cmp(&b.communities),
        // Age: oldest first means the smallest `since`.
        'T' => a.since_ms.cmp(&b.since_ms),
        'H' => a.held_by.cmp(&b.held_by),
        _ => Ordering::Equal,
    };
    primary
        .then_with(|| a.prefix.cmp(&b.prefix))
        .then_with(|| a.next_hop.cmp(&b.next_hop))
}

/// A `/` filter: case-insensitive substring, inverted with a leading `!`.
struct Filter {
    needle: String,
    invert: bool,
}

impl Filter {
    fn new(text: &str) -> Filter {
        let (invert, t) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        Filter {
            needle: t.to_lowercase(),
            invert,
        }
    }

    fn matches(&self, haystack: &str) -> bool {
        self.needle.is_empty() || haystack.contains(&self.needle) != self.invert
    }
}

/// Apply one message. Returns what the loop must do.
pub fn update(app: &mut App, msg: Msg) -> Outcome {
    let mut out = Outcome {
        redraw: true,
        ..Outcome::default()
    };
    match msg {
        Msg::Resize(w, h) => {
            app.size = (w, h);
            app.refilter();
        }
        Msg::Snapshot(snap) => {
            app.snap = Some(*snap);
            app.rebuild();
        }
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                out.redraw = false;
                return out;
            }
            match app.mode {
                Mode::Filter | Mode::Command => edit(app, key),
                Mode::Normal => normal(app, key, &mut out),
            }
        }
    }
    out
}

fn edit(app: &mut App, key: KeyEvent) {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        app.mode = Mode::Normal;
        app.input.clear();
        return;
    }
    match key.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            app.input.clear();
        }
        KeyCode::Enter => {
            let text = std::mem::take(&mut app.input);
            match app.mode {
                Mode::Filter => {
                    app.filters[app.view.index()] = text;
                    app.refilter();
                }
                Mode::Command => match View::parse(&text) {
                    Some(v) => app.view = v,
                    None => app.notice = Some(strings::unknown_view(&text)),
                },
                Mode::Normal => {}
            }
            app.mode = Mode::Normal;
        }
        KeyCode::Backspace => {
            app.input.pop();
        }
        KeyCode::Char(c) => app.input.push(c),
        _ => {}
    }
    // The filter applies while typing, as in k9s.
    if app.mode == Mode::Filter {
        app.filters[app.view.index()] = app.input.clone();
        app.refilter();
    }
}

fn normal(app: &mut App, key: KeyEvent, out: &mut Outcome) {
    let Some(action) = keymap::action(&key) else {
        out.redraw = false;
        return;
    };
    app.notice = None;
    // Windows take their own keys first.
    if app.overlay != Overlay::None {
        match action {
            Action::Quit => out.quit = true,
            Action::Back | Action::Help | Action::Open => app.overlay = Overlay::None,
            Action::Down if app.overlay == Overlay::Raw => app.raw_scroll += 1,
            Action::Up if app.overlay == Overlay::Raw => {
                app.raw_scroll = app.raw_scroll.saturating_sub(1)
            }
            Action::PageDown if app.overlay == Overlay::Raw => app.raw_scroll += app.page(),
            Action::PageUp if app.overlay == Overlay::Raw => {
                app.raw_scroll = app.raw_scroll.saturating_sub(app.page())
            }
            Action::Top => app.raw_scroll = 0,
            Action::Refresh => out.refresh = true,
            _ => out.redraw = false,
        }
        return;
    }
    let page = app.page().max(1) as isize;
    match action {
        Action::Quit => out.quit = true,
        Action::Up => app.move_by(-1),
        Action::Down => app.move_by(1),
        Action::PageUp => app.move_by(-page),
        Action::PageDown => app.move_by(page),
        Action::Top => app.select(0),
        Action::Bottom => app.select(usize::MAX / 2),
        Action::Left => {
            if app.view == View::Routers && app.router > 0 {
                app.router -= 1;
                app.cursors[0] = Cursor::default();
            }
        }
        Action::Right => {
            if app.view == View::Routers && app.router + 1 < app.routers_shown.len() {
                app.router += 1;
                app.cursors[0] = Cursor::default();
            }
        }
        Action::NextView => app.view = View::ALL[(app.view.index() + 1) % View::ALL.len()],
        Action::PrevView => {
            app.view = View::ALL[(app.view.index() + View::ALL.len() - 1) % View::ALL.len()]
        }
        Action::View(n) => {
            if let Some(v) = View::ALL.get(usize::from(n).wrapping_sub(1)) {
                app.view = *v;
            }
        }
        Action::Filter => {
            app.mode = Mode::Filter;
            app.input = app.filters[app.view.index()].clone();
        }
        Action::Command => {
            app.mode = Mode::Command;
            app.input.clear();
        }
        Action::Back => {
            if !app.filters[app.view.index()].is_empty() {
                app.filters[app.view.index()].clear();
                app.refilter();
            } else if app.faults_only {
                app.faults_only = false;
                app.refilter();
            } else {
                out.redraw = false;
            }
        }
        Action::Help => app.overlay = Overlay::Help,
        Action::FaultsOnly => {
            app.faults_only = !app.faults_only;
            app.refilter();
        }
        Action::Refresh => {
            out.refresh = true;
            app.notice = Some(strings::REFRESHING.to_string());
        }
        Action::Open => match app.view {
            View::Routers if app.selected_router().is_some() => {
                app.overlay = Overlay::Raw;
                app.raw_scroll = 0;
            }
            View::Services if app.selected_service().is_some() => app.overlay = Overlay::Why,
            _ => out.redraw = false,
        },
        Action::Sort(c) => {
            if app.view == View::Routes && SORT_KEYS.iter().any(|(k, _)| *k == c) {
                app.sort = if app.sort.0 == c {
                    (c, !app.sort.1)
                } else {
                    (c, false)
                };
                app.refilter();
            } else {
                out.redraw = false;
            }
        }
    }
}
