//! Drawing: `draw(&App, &mut Frame)` reads the state and cannot change it. Tables build only
//! the rows on screen, so a frame costs the same with 100 routes or 10,000.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::app::{App, Mode, Overlay, View, SORT_KEYS};
use super::keymap::{self, Group};
use super::rows;
use super::strings;
use super::theme::{Mark, Role};
use crate::status::explain::age;
use crate::status::sessions::COLUMNS as SESSION_COLUMNS;
use crate::status::{
    router_verdict, why_not_advertised, ConfigState, DriftKind, Health, Level, RouterView,
    SessionState, Snapshot,
};

/// The screen's parts, computed the same way by `draw` and by `update` (for paging).
struct Areas {
    header: Rect,
    banner: Rect,
    sources: Rect,
    tabs: Rect,
    body: Rect,
    footer: Rect,
}

const MAX_SOURCE_LINES: usize = 2;
/// Narrowest router panel before panels scroll sideways.
const MIN_PANEL_WIDTH: u16 = 30;

fn banner_lines(app: &App) -> u16 {
    match app.snap.as_ref().map(|s| &s.config) {
        Some(ConfigState::Rejected { .. }) => 2,
        _ => 0,
    }
}

fn source_lines(app: &App) -> u16 {
    app.snap
        .as_ref()
        .map_or(0, |s| rows::failed_sources(s).count().min(MAX_SOURCE_LINES)) as u16
}

fn layout(app: &App, area: Rect) -> Areas {
    let [header, banner, sources, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_lines(app)),
        Constraint::Length(source_lines(app)),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        banner,
        sources,
        tabs,
        body,
        footer,
    }
}

/// Lines above the route list inside a router panel (address, verdict, sessions, title).
fn panel_preamble(router: Option<&RouterView>) -> u16 {
    let sessions = router.map_or(0, |r| r.sessions.len().min(3)) as u16;
    3 + sessions + 1
}

/// How many table rows fit in the body for the current terminal size.
pub fn table_rows(app: &App) -> usize {
    let a = layout(app, Rect::new(0, 0, app.size.0, app.size.1));
    let chrome = match app.view {
        View::Routers => 2 + panel_preamble(app.selected_router()),
        _ => 3,
    };
    a.body.height.saturating_sub(chrome) as usize
}

/// Draw the whole screen.
pub fn draw(app: &App, f: &mut Frame) {
    let a = layout(app, f.area());
    header(app, f, a.header);
    if let Some(snap) = &app.snap {
        banner(app, snap, f, a.banner);
        sources(app, snap, f, a.sources);
    }
    tabs(app, f, a.tabs);
    match &app.snap {
        None => f.render_widget(
            Paragraph::new(strings::WAITING).style(app.theme.style(Role::Dim)),
            a.body,
        ),
        Some(snap) => match app.view {
            View::Routers => routers(app, snap, f, a.body),
            View::Sessions => sessions(app, snap, f, a.body),
            View::Routes => routes(app, f, a.body),
            View::Services => services(app, snap, f, a.body),
            View::Events => events(app, snap, f, a.body),
        },
    }
    footer(app, f, a.footer);
    match app.overlay {
        Overlay::None => {}
        Overlay::Help => help(app, f),
        Overlay::Raw => raw(app, f),
        Overlay::Why => why(app, f),
    }
}

fn s(app: &App, role: Role) -> Style {
    app.theme.style(role)
}

fn mark_span<'a>(app: &App, m: Mark) -> Span<'a> {
    Span::styled(m.symbol(), s(app, m.role()))
}

fn level_mark(l: Level) -> Mark {
    match l {
        Level::Ok => Mark::Ok,
        Level::Warning => Mark::Warn,
        Level::Failure => Mark::Fail,
    }
}

fn state_mark(st: SessionState) -> Mark {
    match st {
        SessionState::Established => Mark::Ok,
        SessionState::OpenSent | SessionState::OpenConfirm | SessionState::Connect => Mark::Warn,
        _ => Mark::Fail,
    }
}

fn drift_mark(k: DriftKind) -> Mark {
    match k {
        DriftKind::Stale | DriftKind::RoutersDisagree => Mark::Warn,
        _ => Mark::Fail,
    }
}

fn sep<'a>(app: &App) -> Span<'a> {
    Span::styled(" │ ", s(app, Role::Dim))
}

/// Below this width the header drops the program's name and the tabs their counts.
const NARROW: u16 = 80;

fn header(app: &App, f: &mut Frame, area: Rect) {
    let narrow = area.width < NARROW;
    let mut spans = Vec::new();
    if !narrow || app.snap.is_none() {
        spans.push(Span::styled(strings::APP, s(app, Role::Header)));
    }
    // Verdicts first, so a narrow terminal cuts the cluster's name, not the news.
    if let Some(snap) = &app.snap {
        if !spans.is_empty() {
            spans.push(sep(app));
        }
        match &snap.config {
            ConfigState::Accepted => {
                spans.push(mark_span(app, Mark::Ok));
                spans.push(Span::raw(format!(" {}", strings::CONFIG_ACCEPTED)));
            }
            ConfigState::Rejected { .. } => {
                spans.push(mark_span(app, Mark::Fail));
                spans.push(Span::styled(
                    format!(" {}", strings::CONFIG_REJECTED),
                    s(app, Role::Fail),
                ));
            }
            ConfigState::Unknown => {
                spans.push(mark_span(app, Mark::Warn));
                spans.push(Span::raw(format!(" {}", strings::CONFIG_UNKNOWN)));
            }
        }
        let total = app.session_rows.len();
        let up = app.sessions_up;
        spans.push(sep(app));
        let m = if total == 0 {
            Mark::Warn
        } else if up == total {
            Mark::Ok
        } else if up == 0 {
            Mark::Fail
        } else {
            Mark::Warn
        };
        spans.push(mark_span(app, m));
        spans.push(Span::raw(format!(" {}", strings::sessions_up(up, total))));
        spans.push(sep(app));
        let n = snap.drift.len();
        spans.push(mark_span(app, if n == 0 { Mark::Ok } else { Mark::Fail }));
        spans.push(Span::raw(format!(" {}", strings::drift_count(n))));
        spans.push(sep(app));
        spans.push(Span::styled(
            strings::updated(&hms(snap.taken_at_ms)),
            s(app, Role::Dim),
        ));
        if let Some(c) = &snap.cluster {
            spans.push(sep(app));
            spans.push(Span::styled(
                match &c.context {
                    Some(ctx) => format!("{ctx} ({})", c.server),
                    None => c.server.clone(),
                },
                s(app, Role::Dim),
            ));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `HH:MM:SS` (UTC) of a unix-ms time.
fn hms(ms: u64) -> String {
    let secs = (ms / 1000) % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn banner(app: &App, snap: &Snapshot, f: &mut Frame, area: Rect) {
    if let ConfigState::Rejected { message, by, .. } = &snap.config {
        let line = Line::from(vec![
            mark_span(app, Mark::Fail),
            Span::raw(" "),
            Span::styled(strings::rejected(by, message), s(app, Role::Fail)),
        ]);
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
    }
}

fn sources(app: &App, snap: &Snapshot, f: &mut Frame, area: Rect) {
    let now = snap.taken_at_ms;
    let failed: Vec<_> = rows::failed_sources(snap).collect();
    let mut lines = Vec::new();
    for (i, src) in failed.iter().enumerate().take(MAX_SOURCE_LINES) {
        let Health::Failed { error, since_ms } = &src.health else {
            continue;
        };
        let mut text = strings::source_failed(
            &src.name,
            error,
            &age(now, *since_ms),
            src.last_ok_ms.map(|t| age(now, t)).as_deref(),
        );
        if i + 1 == MAX_SOURCE_LINES && failed.len() > MAX_SOURCE_LINES {
            text = format!("(+{} more) {text}", failed.len() - i - 1);
        }
        lines.push(Line::from(vec![
            mark_span(app, Mark::Fail),
            Span::raw(" "),
            Span::styled(text, s(app, Role::Warn)),
        ]));
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn tabs(app: &App, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, v) in View::ALL.into_iter().enumerate() {
        let n = match v {
            View::Routers => app.routers_shown.len(),
            View::Sessions => app.sessions_shown.len(),
            View::Routes => app.routes_shown.len(),
            View::Services => app.services_shown.len(),
            View::Events => app.events_shown.len(),
        };
        let label = if area.width < NARROW {
            format!(" {}:{} ", i + 1, v.name())
        } else {
            format!(" {}:{}({n}) ", i + 1, v.name())
        };
        let role = if v == app.view {
            Role::ActiveTab
        } else {
            Role::Text
        };
        spans.push(Span::styled(label, s(app, role)));
        spans.push(Span::raw(" "));
    }
    if app.faults_only {
        spans.push(Span::styled(strings::FAULTS_ONLY, s(app, Role::Warn)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn footer(app: &App, f: &mut Frame, area: Rect) {
    let line = match app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled("/", s(app, Role::Key)),
            Span::raw(app.input.clone()),
            Span::styled("▏", s(app, Role::Key)),
        ]),
        Mode::Command => Line::from(vec![
            Span::styled(":", s(app, Role::Key)),
            Span::raw(app.input.clone()),
            Span::styled("▏", s(app, Role::Key)),
        ]),
        Mode::Normal => {
            let mut spans = Vec::new();
            if let Some(n) = &app.notice {
                spans.push(Span::styled(format!("{n}  "), s(app, Role::Warn)));
            }
            let filter = &app.filters[app.view.index()];
            if !filter.is_empty() {
                spans.push(Span::styled(format!("/{filter}  "), s(app, Role::Key)));
            }
            let extra = match app.view {
                View::Routers => strings::ROUTER_HINTS,
                View::Services => strings::SERVICE_HINTS,
                _ => &[],
            };
            for (k, what) in extra.iter().chain(strings::HINTS) {
                spans.push(Span::styled(*k, s(app, Role::Key)));
                spans.push(Span::styled(format!(" {what}  "), s(app, Role::Dim)));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

fn block<'a>(app: &App, title: String, focused: bool) -> Block<'a> {
    let border = if focused {
        Role::FocusBorder
    } else {
        Role::Border
    };
    Block::bordered()
        .border_style(s(app, border))
        .title(Span::styled(title, s(app, Role::Header)))
}

/// `selected/total` for a table title.
fn position(selected: usize, total: usize) -> String {
    if total == 0 {
        "0/0".to_string()
    } else {
        format!("{}/{total}", selected + 1)
    }
}

fn empty(app: &App, f: &mut Frame, area: Rect, title: String) {
    let text = if app.filters[app.view.index()].is_empty() && !app.faults_only {
        strings::NO_ROWS
    } else {
        strings::NO_ROWS_FILTERED
    };
    f.render_widget(
        Paragraph::new(text)
            .style(s(app, Role::Dim))
            .block(block(app, title, true)),
        area,
    );
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |x| x.to_string())
}

// ---- routers ----------------------------------------------------------------------------

fn routers(app: &App, snap: &Snapshot, f: &mut Frame, area: Rect) {
    if app.routers_shown.is_empty() {
        let text = if app.faults_only && !snap.routers.is_empty() {
            strings::NO_ROUTERS_FAULTS
        } else {
            strings::NO_ROUTERS
        };
        f.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(block(
                app,
                " routers ".into(),
                true,
            )),
            area,
        );
        return;
    }
    let n = app.routers_shown.len();
    let fit = ((area.width / MIN_PANEL_WIDTH).max(1) as usize).min(n);
    // The window of panels that contains the selected one.
    let first = app.router.saturating_sub(fit - 1).min(n - fit);
    let [panels, more] = if fit < n {
        Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area)
    } else {
        [area, Rect::default()]
    };
    let cols = Layout::horizontal(vec![Constraint::Ratio(1, fit as u32); fit]).split(panels);
    for (slot, &col) in cols.iter().enumerate() {
        let pos = first + slot;
        let r = &snap.routers[app.routers_shown[pos]];
        router_panel(app, snap, r, pos == app.router, f, col);
    }
    if fit < n {
        let text = strings::more_panels(first, n - first - fit);
        f.render_widget(Paragraph::new(text).style(s(app, Role::Dim)), more);
    }
}

fn router_panel(
    app: &App,
    snap: &Snapshot,
    r: &RouterView,
    focused: bool,
    f: &mut Frame,
    area: Rect,
) {
    let now = snap.taken_at_ms;
    let title = format!(" {} · {} ", r.name, r.kind.as_str());
    let blk = block(app, title, focused);
    let inner = blk.inner(area);
    f.render_widget(blk, area);

    let v = router_verdict(snap, r);
    let mut lines: Vec<Line> = Vec::new();
    let mut addr = Vec::new();
    if let Some(a) = &r.address {
        addr.push(a.clone());
    }
    if let Some(asn) = r.asn {
        addr.push(format!("AS {asn}"));
    }
    lines.push(Line::styled(addr.join(" · "), s(app, Role::Dim)));
    let role = match v.level {
        Level::Ok => Role::Ok,
        Level::Warning => Role::Warn,
        Level::Failure => Role::Fail,
    };
    // The verdict is the point of the panel: wrap it rather than cut it.
    let width = (inner.width as usize).saturating_sub(2).max(8);
    for (i, part) in wrap(&v.text, width).into_iter().take(3).enumerate() {
        let lead = if i == 0 {
            mark_span(app, level_mark(v.level))
        } else {
            Span::raw(" ")
        };
        lines.push(Line::from(vec![
            lead,
            Span::raw(" "),
            Span::styled(part, role_bold(app, role)),
        ]));
    }
    lines.push(Line::raw(""));
    for sess in r.sessions.iter().take(3) {
        let mut t = format!(" {} {}", sess.peer, sess.state);
        if let Some(since) = sess.since_ms {
            t.push_str(&format!(" {}", age(now, since)));
        }
        if sess.state.is_up() {
            t.push_str(&format!(" · {} rcvd", sess.received));
        }
        lines.push(Line::from(vec![
            mark_span(app, state_mark(sess.state)),
            Span::raw(t),
        ]));
    }
    lines.push(Line::styled(strings::GIVING_ROUTES, s(app, Role::Text)));
    let pre = lines.len();
    let room = (inner.height as usize).saturating_sub(pre);
    if r.routes.is_empty() {
        lines.push(Line::styled(
            format!("  {}", strings::NO_ROUTES),
            s(app, Role::Dim),
        ));
    } else {
        let c = app.cursors[View::Routers.index()];
        let (sel, offset) = if focused {
            (
                Some(c.selected),
                c.offset.min(r.routes.len().saturating_sub(room.max(1))),
            )
        } else {
            (None, 0)
        };
        let offset = match sel {
            Some(sel) if sel >= offset + room.max(1) => sel + 1 - room.max(1),
            _ => offset,
        };
        for (i, rt) in r.routes.iter().enumerate().skip(offset).take(room) {
            let mut t = format!("• {}", rt.prefix);
            if let Some(h) = rt.next_hop {
                t.push_str(&format!(" via {h}"));
            }
            let style = if sel == Some(i) {
                s(app, Role::Selected)
            } else {
                s(app, Role::Text)
            };
            lines.push(Line::styled(t, style));
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// Greedy word wrap to `width` characters; words longer than a line are cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let need = cur.chars().count() + usize::from(!cur.is_empty()) + word.chars().count();
        if need > width && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

fn role_bold(app: &App, role: Role) -> Style {
    s(app, role).add_modifier(ratatui::style::Modifier::BOLD)
}

// ---- sessions ---------------------------------------------------------------------------

const SESSION_COLS: [Col; 10] = [
    col(SESSION_COLUMNS[0], 14, 0),
    col(SESSION_COLUMNS[1], 16, 0),
    col(SESSION_COLUMNS[2], 8, 4),
    col(SESSION_COLUMNS[3], 7, 2),
    col(SESSION_COLUMNS[4], 13, 0),
    col(SESSION_COLUMNS[5], 6, 1),
    col(SESSION_COLUMNS[6], 8, 3),
    col(SESSION_COLUMNS[7], 10, 1),
    col(strings::FLAPS_COLUMN, 13, 2),
    col(SESSION_COLUMNS[8], 18, 0),
];

fn sessions(app: &App, snap: &Snapshot, f: &mut Frame, area: Rect) {
    let c = app.cursor();
    let total = app.sessions_shown.len();
    let title = format!(" sessions {} ", position(c.selected, total));
    if total == 0 {
        return empty(app, f, area, title);
    }
    let now = snap.taken_at_ms;
    let page = (area.height as usize).saturating_sub(3);
    let offset = visible_offset(c.selected, c.offset, page);
    let rows = app.sessions_shown[offset..(offset + page).min(total)]
        .iter()
        .enumerate()
        .map(|(i, &ri)| {
            let row = &app.session_rows[ri];
            let history = row.history.and_then(|i| snap.history.sessions.get(i));
            let r = &row.session;
            let (flaps, spark) = rows::flap_sparkline(history, now, 10);
            let state = Line::from(vec![
                mark_span(app, state_mark(r.state)),
                Span::raw(format!(" {}", r.state)),
            ]);
            let uptime = match (r.state.is_up(), r.since_ms) {
                (true, Some(t)) => age(now, t),
                _ => "—".to_string(),
            };
            let flap_style = if flaps > 0 { Role::Warn } else { Role::Dim };
            let cells = vec![
                Cell::from(r.node.clone()),
                Cell::from(r.peer.clone()),
                Cell::from(opt(r.local_as)),
                Cell::from(opt(r.peer_as)),
                Cell::from(state),
                Cell::from(uptime),
                Cell::from(opt(r.received)),
                Cell::from(opt(r.advertised)),
                Cell::from(Line::styled(format!("{spark} {flaps}"), s(app, flap_style))),
                Cell::from(Line::styled(
                    r.last_error.clone().unwrap_or_default(),
                    s(app, Role::Warn),
                )),
            ];
            (cells, offset + i == c.selected)
        });
    table(app, f, area, title, &SESSION_COLS, rows);
}

/// The first visible row: the stored offset, moved so the selection is on screen.
fn visible_offset(selected: usize, offset: usize, page: usize) -> usize {
    let page = page.max(1);
    if selected < offset {
        selected
    } else if selected >= offset + page {
        selected + 1 - page
    } else {
        offset
    }
}

/// A table column: header, width, and how early it goes when the terminal is narrow
/// (0: never; higher numbers go first).
pub struct Col {
    pub name: &'static str,
    pub width: u16,
    pub drop: u8,
}

const fn col(name: &'static str, width: u16, drop: u8) -> Col {
    Col { name, width, drop }
}

/// The columns that fit in `avail` cells, dropping the most droppable (rightmost first).
fn fit(cols: &[Col], avail: u16) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    loop {
        let total: u16 = keep.iter().map(|&i| cols[i].width).sum::<u16>()
            + (keep.len() as u16).saturating_sub(1);
        if total <= avail {
            return keep;
        }
        let victim = keep
            .iter()
            .enumerate()
            .filter(|(_, &i)| cols[i].drop > 0)
            .max_by_key(|(p, &i)| (cols[i].drop, *p))
            .map(|(p, _)| p);
        match victim {
            Some(p) => {
                keep.remove(p);
            }
            None => return keep,
        }
    }
}

/// Draw a table of the given rows (already only the visible ones) in the columns that fit.
fn table<'a>(
    app: &App,
    f: &mut Frame,
    area: Rect,
    title: String,
    cols: &[Col],
    rows: impl Iterator<Item = (Vec<Cell<'a>>, bool)>,
) {
    let keep = fit(cols, area.width.saturating_sub(2));
    let header =
        Row::new(keep.iter().map(|&i| Cell::from(cols[i].name))).style(s(app, Role::Header));
    let widths: Vec<Constraint> = keep
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            if n + 1 == keep.len() {
                Constraint::Min(cols[i].width)
            } else {
                Constraint::Length(cols[i].width)
            }
        })
        .collect();
    let rows = rows.map(|(mut cells, selected)| {
        let mut kept = Vec::with_capacity(keep.len());
        for &i in keep.iter().rev() {
            if i < cells.len() {
                kept.push(cells.swap_remove(i));
            }
        }
        kept.reverse();
        let row = Row::new(kept);
        if selected {
            row.style(s(app, Role::Selected))
        } else {
            row
        }
    });
    let t = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .block(block(app, title, true));
    f.render_widget(t, area);
}

// ---- routes -----------------------------------------------------------------------------

const ROUTE_COLS: [Col; 8] = [
    col(strings::ROUTE_DRIFT_COLUMN, 16, 1),
    col(SORT_KEYS[0].1, 18, 0),
    col(SORT_KEYS[1].1, 15, 2),
    col(SORT_KEYS[2].1, 8, 4),
    col(SORT_KEYS[3].1, 5, 5),
    col(SORT_KEYS[4].1, 12, 3),
    col(SORT_KEYS[5].1, 6, 3),
    col(SORT_KEYS[6].1, 10, 1),
];

fn routes(app: &App, f: &mut Frame, area: Rect) {
    let c = app.cursor();
    let total = app.routes_shown.len();
    let (key, rev) = app.sort;
    let sort_name = SORT_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, n)| *n);
    let title = format!(
        " routes {} · sorted by {sort_name} {} ",
        position(c.selected, total),
        if rev { "↓" } else { "↑" }
    );
    if total == 0 {
        return empty(app, f, area, title);
    }
    let now = app.now_ms();
    let page = (area.height as usize).saturating_sub(3);
    let offset = visible_offset(c.selected, c.offset, page);
    let rows = app.routes_shown[offset..(offset + page).min(total)]
        .iter()
        .enumerate()
        .map(|(i, &ri)| {
            let r = &app.route_rows[ri];
            let drift = match r.drift.first() {
                None => Line::from(vec![mark_span(app, Mark::Ok)]),
                Some(&k) => {
                    let m = drift_mark(k);
                    let mut t = format!(" {}", strings::drift_word(k));
                    if r.drift.len() > 1 {
                        t.push_str(&format!(" +{}", r.drift.len() - 1));
                    }
                    Line::from(vec![mark_span(app, m), Span::styled(t, s(app, m.role()))])
                }
            };
            let held = if r.held_by.is_empty() {
                Line::styled("none", s(app, Role::Fail))
            } else {
                Line::raw(r.held_by.join(","))
            };
            let cells = vec![
                Cell::from(drift),
                Cell::from(r.prefix.to_string()),
                Cell::from(opt(r.next_hop)),
                Cell::from(r.as_path.clone()),
                Cell::from(opt(r.local_pref)),
                Cell::from(r.communities.clone()),
                Cell::from(r.since_ms.map_or_else(|| "—".into(), |t| age(now, t))),
                Cell::from(held),
            ];
            (cells, offset + i == c.selected)
        });
    table(app, f, area, title, &ROUTE_COLS, rows);
}

// ---- services ---------------------------------------------------------------------------

const SERVICE_COLS: [Col; 6] = [
    col(strings::SERVICE_COLUMNS[0], 20, 0),
    col(strings::SERVICE_COLUMNS[1], 16, 0),
    col(strings::SERVICE_COLUMNS[2], 12, 3),
    col(strings::SERVICE_COLUMNS[3], 7, 4),
    col(strings::SERVICE_COLUMNS[4], 22, 2),
    col(strings::SERVICE_COLUMNS[5], 16, 0),
];

fn services(app: &App, snap: &Snapshot, f: &mut Frame, area: Rect) {
    let c = app.cursor();
    let total = app.services_shown.len();
    let title = format!(" services {} ", position(c.selected, total));
    if total == 0 {
        return empty(app, f, area, title);
    }
    let page = (area.height as usize).saturating_sub(3);
    let offset = visible_offset(c.selected, c.offset, page);
    let rows = app.services_shown[offset..(offset + page).min(total)]
        .iter()
        .enumerate()
        .map(|(i, &si)| {
            let svc = &snap.services[si];
            let drift = app.service_drift.get(&svc.key());
            let drift_cell = match drift.filter(|d| !d.is_empty()) {
                None if svc.addresses.is_empty() => Line::from(vec![
                    mark_span(app, Mark::Warn),
                    Span::styled(" pending", s(app, Role::Warn)),
                ]),
                None => Line::from(vec![mark_span(app, Mark::Ok)]),
                Some(d) => {
                    let mut spans = Vec::new();
                    for (j, &k) in d.iter().enumerate() {
                        if j > 0 {
                            spans.push(Span::raw(", "));
                        }
                        let m = drift_mark(k);
                        spans.push(mark_span(app, m));
                        spans.push(Span::styled(
                            format!(" {}", strings::drift_word(k)),
                            s(app, m.role()),
                        ));
                    }
                    Line::from(spans)
                }
            };
            let nodes: std::collections::BTreeSet<&str> =
                svc.announcements.iter().map(|a| a.node.as_str()).collect();
            let peers: std::collections::BTreeSet<&str> =
                svc.announcements.iter().map(|a| a.peer.as_str()).collect();
            let announced = if svc.announcements.is_empty() {
                "—".to_string()
            } else {
                format!("{} → {} peers", nodes.len(), peers.len())
            };
            let addresses = if svc.addresses.is_empty() {
                svc.pending_reason
                    .clone()
                    .unwrap_or_else(|| "<pending>".into())
            } else {
                rows::join(&svc.addresses, ",")
            };
            let cells = vec![
                Cell::from(svc.key()),
                Cell::from(addresses),
                Cell::from(svc.pool.clone().unwrap_or_else(|| "—".into())),
                Cell::from(svc.external_traffic_policy.clone()),
                Cell::from(announced),
                Cell::from(drift_cell),
            ];
            (cells, offset + i == c.selected)
        });
    table(app, f, area, title, &SERVICE_COLS, rows);
}

// ---- events -----------------------------------------------------------------------------

const EVENT_COLS: [Col; 6] = [
    col(strings::EVENT_COLUMNS[0], 9, 1),
    col(strings::EVENT_COLUMNS[1], 14, 0),
    col(strings::EVENT_COLUMNS[2], 26, 2),
    col(strings::EVENT_COLUMNS[3], 5, 4),
    col(strings::EVENT_COLUMNS[4], 6, 3),
    col(strings::EVENT_COLUMNS[5], 20, 0),
];

fn events(app: &App, snap: &Snapshot, f: &mut Frame, area: Rect) {
    let c = app.cursor();
    let total = app.events_shown.len();
    let title = format!(" events {} ", position(c.selected, total));
    if total == 0 {
        return empty(app, f, area, title);
    }
    let now = snap.taken_at_ms;
    let page = (area.height as usize).saturating_sub(3);
    let offset = visible_offset(c.selected, c.offset, page);
    let rows = app.events_shown[offset..(offset + page).min(total)]
        .iter()
        .enumerate()
        .map(|(i, &ei)| {
            let e = &snap.events[ei];
            let ty = if e.type_ == "Normal" {
                Line::raw(e.type_.clone())
            } else {
                Line::from(vec![
                    mark_span(app, Mark::Warn),
                    Span::styled(format!(" {}", e.type_), s(app, Role::Warn)),
                ])
            };
            let cells = vec![
                Cell::from(ty),
                Cell::from(e.reason.clone()),
                Cell::from(e.object.clone()),
                Cell::from(e.count.to_string()),
                Cell::from(e.last_ms.map_or_else(|| "—".into(), |t| age(now, t))),
                Cell::from(e.message.clone()),
            ];
            (cells, offset + i == c.selected)
        });
    table(app, f, area, title, &EVENT_COLS, rows);
}

// ---- windows ----------------------------------------------------------------------------

fn popup(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let w = (area.width * pct_w / 100).max(area.width.min(40));
    let h = (area.height * pct_h / 100).max(area.height.min(10));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn help(app: &App, f: &mut Frame) {
    let mut lines = Vec::new();
    for g in [Group::General, Group::Navigation, Group::View] {
        lines.push(Line::styled(g.title(), s(app, Role::Header)));
        for b in keymap::BINDINGS
            .iter()
            .filter(|b| b.group == g && !b.label.is_empty())
        {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<13}", b.label), s(app, Role::Key)),
                Span::raw(b.help),
            ]));
        }
        if g == Group::View {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<13}", keymap::SORT_HELP.0), s(app, Role::Key)),
                Span::raw(keymap::SORT_HELP.1),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        mark_span(app, Mark::Ok),
        Span::raw(" ok   "),
        mark_span(app, Mark::Warn),
        Span::raw(" warning   "),
        mark_span(app, Mark::Fail),
        Span::raw(" failure"),
    ]));
    let full = f.area();
    let (w, h) = (full.width.min(80), full.height.min(lines.len() as u16 + 2));
    let area = Rect::new(
        full.x + (full.width - w) / 2,
        full.y + (full.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(block(app, strings::HELP_TITLE.into(), true)),
        area,
    );
}

fn raw(app: &App, f: &mut Frame) {
    let Some(r) = app.selected_router() else {
        return;
    };
    let area = popup(f.area(), 90, 90);
    let title = format!(" {} · raw output ", r.name);
    let text = match &r.raw {
        Some(t) => Text::from(
            t.lines()
                .skip(app.raw_scroll)
                .map(|l| Line::raw(l.to_string()))
                .collect::<Vec<_>>(),
        ),
        None => Text::styled(strings::NO_RAW, s(app, Role::Dim)),
    };
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(text).block(
            block(app, title, true)
                .title_bottom(Span::styled(strings::RAW_HINT, s(app, Role::Dim))),
        ),
        area,
    );
}

fn why(app: &App, f: &mut Frame) {
    let (Some(svc), Some(snap)) = (app.selected_service(), app.snap.as_ref()) else {
        return;
    };
    let area = popup(f.area(), 80, 60);
    let key = svc.key();
    let mut lines = vec![Line::from(vec![
        Span::styled(key.clone(), s(app, Role::Header)),
        Span::raw(format!("  {}", rows::join(&svc.addresses, ", "))),
    ])];
    lines.push(Line::raw(""));
    let reasons = why_not_advertised(snap, &key);
    if reasons.is_empty() {
        lines.push(Line::from(vec![
            mark_span(app, Mark::Ok),
            Span::raw(format!(" {}", strings::WHY_ALL_GOOD)),
        ]));
    }
    for r in &reasons {
        lines.push(Line::from(vec![
            mark_span(app, Mark::Fail),
            Span::raw(format!(" {}", r.detail)),
        ]));
    }
    let drifts: Vec<_> = snap
        .drift
        .iter()
        .filter(|d| d.service.as_deref() == Some(key.as_str()))
        .collect();
    if !drifts.is_empty() {
        lines.push(Line::raw(""));
        for d in drifts {
            let m = drift_mark(d.kind);
            lines.push(Line::from(vec![
                mark_span(app, m),
                Span::styled(
                    format!(" {}: ", strings::drift_word(d.kind)),
                    s(app, m.role()),
                ),
                Span::raw(d.detail.clone()),
            ]));
        }
    }
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            block(app, strings::WHY_TITLE.into(), true)
                .title_bottom(Span::styled(strings::WHY_HINT, s(app, Role::Dim))),
        ),
        area,
    );
}
