//! Rendering tests: fixture snapshots drawn on ratatui's `TestBackend`, compared with insta
//! snapshots in `snapshots/` (text), plus checks on cell styles, which the text loses.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::Terminal;

use super::app::{update, App, Msg, Overlay, View};
use super::theme::Theme;
use super::{draw, Outcome};
use crate::status::drift::derive;
use crate::status::*;

/// Fixed "now" of every fixture: 2025-11-30 10:00:00 UTC.
const NOW: u64 = 1_764_496_800_000;
const NGINX: &str = "198.51.100.0/32";
const NODE_IP: &str = "127.0.1.1";

fn announcement(peer: &str, prefix: &str) -> Announcement {
    Announcement {
        node: "lab-node".into(),
        peer: peer.into(),
        prefix: prefix.parse().unwrap(),
        next_hop: Some(NODE_IP.parse().unwrap()),
        aggregation_length: 32,
        ..Default::default()
    }
}

fn speaker(peer: &str, up: bool, advertised: u64) -> SpeakerSession {
    SpeakerSession {
        node: "lab-node".into(),
        pod: Some("speaker-lab-node".into()),
        peer: peer.into(),
        local_as: Some(64500),
        peer_as: Some(64500),
        state: if up {
            SessionState::Established
        } else {
            SessionState::Active
        },
        up_since_ms: up.then_some(NOW - 300_000),
        prefixes_advertised: advertised,
        updates_sent: advertised + 1,
        last_error: (!up).then(|| "Connection refused".into()),
    }
}

fn route(prefix: &str, hop: &str, since_ago_ms: u64) -> RouterRoute {
    RouterRoute {
        prefix: prefix.parse().unwrap(),
        next_hop: Some(hop.parse().unwrap()),
        as_path: vec![],
        local_pref: Some(100),
        communities: vec![],
        from_peer: Some(format!("{NODE_IP}:179")),
        since_ms: Some(NOW - since_ago_ms),
    }
}

fn router(
    name: &str,
    kind: RouterKind,
    address: &str,
    up: bool,
    routes: Vec<RouterRoute>,
) -> RouterView {
    RouterView {
        name: name.into(),
        kind,
        address: Some(format!("{address}:179")),
        asn: Some(64500),
        sessions: vec![RouterSession {
            peer: format!("{NODE_IP}:179"),
            peer_as: Some(64500),
            state: if up { SessionState::Established } else { SessionState::Active },
            since_ms: Some(NOW - if up { 300_000 } else { 12_000 }),
            last_error: (!up).then(|| "Connection refused".into()),
            received: routes.len() as u64,
        }],
        routes,
        raw: Some(format!(
            "BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\nmetallb    BGP        ---        {}    09:55:00.000  {}\n  BGP state:          {}\n    Neighbor address: {NODE_IP}\n    Neighbor AS:      64500\n",
            if up { "up  " } else { "start" },
            if up { "Established" } else { "Active        Socket: Connection refused" },
            if up { "Established" } else { "Active" },
        )),
    }
}

fn source(name: &str, kind: SourceKind) -> SourceHealth {
    SourceHealth {
        name: name.into(),
        kind,
        health: Health::Ok,
        last_ok_ms: Some(NOW),
    }
}

/// The tutorial after `tutorial-2`: nginx at 198.51.100.0 announced to BIRD and FRR, both hold it.
fn lab() -> Snapshot {
    let mut s = Snapshot {
        taken_at_ms: NOW,
        cluster: Some(ClusterInfo {
            context: Some("metallbctl-lab".into()),
            server: "https://127.0.0.1:36443".into(),
            namespace: "metallb-system".into(),
        }),
        config: ConfigState::Accepted,
        services: vec![ServiceIntent {
            namespace: "default".into(),
            name: "nginx".into(),
            addresses: vec!["198.51.100.0".parse().unwrap()],
            pool: Some("my-ip-space".into()),
            external_traffic_policy: "Cluster".into(),
            nodes_with_endpoints: vec!["lab-node".into()],
            announcements: vec![
                announcement("10.96.0.100", NGINX),
                announcement("10.96.0.101", NGINX),
            ],
            pending_reason: None,
        }],
        speakers: vec![
            speaker("10.96.0.100:179", true, 1),
            speaker("10.96.0.101:179", true, 1),
        ],
        routers: vec![
            router(
                "bird",
                RouterKind::Bird,
                "10.96.0.100",
                true,
                vec![route(NGINX, NODE_IP, 290_000)],
            ),
            router(
                "frr",
                RouterKind::Frr,
                "10.96.0.101",
                true,
                vec![route(NGINX, NODE_IP, 289_000)],
            ),
        ],
        events: vec![
            EventRecord {
                type_: "Normal".into(),
                reason: "IPAllocated".into(),
                object: "Service/default/nginx".into(),
                message: "Assigned IP \"198.51.100.0\"".into(),
                count: 1,
                last_ms: Some(NOW - 291_000),
                source: "metallb-controller".into(),
            },
            EventRecord {
                type_: "Normal".into(),
                reason: "nodeAssigned".into(),
                object: "Service/default/nginx".into(),
                message: "announcing from node \"lab-node\"".into(),
                count: 1,
                last_ms: Some(NOW - 290_000),
                source: "metallb-speaker".into(),
            },
        ],
        sources: vec![
            source("cluster", SourceKind::Cluster),
            source("speaker/lab-node", SourceKind::Speaker),
            source("bird", SourceKind::Router),
            source("frr", SourceKind::Router),
        ],
        drift: vec![],
        history: History {
            sessions: vec![SessionHistory {
                key: "speaker/lab-node/10.96.0.100:179".into(),
                transitions: vec![
                    Transition {
                        at_ms: NOW - 420_000,
                        up: false,
                    },
                    Transition {
                        at_ms: NOW - 400_000,
                        up: true,
                    },
                    Transition {
                        at_ms: NOW - 330_000,
                        up: false,
                    },
                    Transition {
                        at_ms: NOW - 320_000,
                        up: false,
                    },
                    Transition {
                        at_ms: NOW - 300_000,
                        up: true,
                    },
                ],
                prefix_counts: vec![],
            }],
        },
    };
    s.drift = derive(&s);
    s
}

fn with_drift(mut s: Snapshot) -> Snapshot {
    s.drift = derive(&s);
    s
}

fn kinds(s: &Snapshot) -> Vec<DriftKind> {
    s.drift.iter().map(|d| d.kind).collect()
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn app(theme: Theme, w: u16, h: u16, snap: Snapshot) -> App {
    let mut a = App::new(theme, (w, h));
    update(&mut a, Msg::Snapshot(Box::new(snap)));
    a
}

fn render(a: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(a.size.0, a.size.1)).unwrap();
    t.draw(|f| draw(a, f)).unwrap();
    t
}

fn snapshot(name: &str, a: &App) -> Buffer {
    let t = render(a);
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("tui_{name}"), t.backend());
    });
    t.backend().buffer().clone()
}

/// The text of row `y`.
fn line(b: &Buffer, y: u16) -> String {
    (0..b.area.width).map(|x| b[(x, y)].symbol()).collect()
}

/// The first row whose text contains `needle`.
fn find_row(b: &Buffer, needle: &str) -> u16 {
    (0..b.area.height)
        .find(|&y| line(b, y).contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen"))
}

#[test]
fn waiting_for_the_first_refresh() {
    let a = App::new(Theme::COLOR, (80, 10));
    snapshot("waiting", &a);
}

#[test]
fn not_connected() {
    let mut s = lab();
    s.speakers = vec![
        speaker("10.96.0.100:179", false, 0),
        speaker("10.96.0.101:179", false, 0),
    ];
    for r in &mut s.routers {
        *r = router(
            &r.name,
            r.kind,
            r.address.as_deref().unwrap().trim_end_matches(":179"),
            false,
            vec![],
        );
    }
    let s = with_drift(s);
    assert!(kinds(&s).contains(&DriftKind::SessionDown));
    let b = snapshot("not_connected", &app(Theme::COLOR, 100, 22, s));
    let y = find_row(&b, "not connected: Active since 12s (Connection");
    find_row(&b, "refused)");
    assert!(
        line(&b, y).contains('✗'),
        "the failure has a mark, not only a colour"
    );
}

#[test]
fn connected_with_no_routes() {
    let mut s = lab();
    s.services.clear();
    s.events.clear();
    for sp in &mut s.speakers {
        sp.prefixes_advertised = 0;
    }
    for r in &mut s.routers {
        r.routes.clear();
        r.sessions[0].received = 0;
    }
    let s = with_drift(s);
    let b = snapshot("connected_no_routes", &app(Theme::COLOR, 100, 20, s));
    find_row(&b, "connected, no routes yet");
}

#[test]
fn connected_with_routes() {
    let b = snapshot("connected_routes", &app(Theme::COLOR, 100, 20, lab()));
    find_row(&b, "MetalLB is connected — 1 route");
    find_row(&b, "• 198.51.100.0/32 via 127.0.1.1");
}

#[test]
fn config_rejected_shows_metallbs_text() {
    let mut s = lab();
    let msg = "configuration rejected: new config not compatible with assigned IPs: service \"default/nginx\" cannot own \"198.51.100.0\" under new config";
    s.config = ConfigState::Rejected {
        message: msg.into(),
        by: "metallb-controller".into(),
        at_ms: Some(NOW - 5_000),
    };
    s.events.insert(
        0,
        EventRecord {
            type_: "Warning".into(),
            reason: "InvalidConfig".into(),
            object: "ConfigMap/metallb-system/config".into(),
            message: msg.into(),
            count: 2,
            last_ms: Some(NOW - 5_000),
            source: "metallb-controller".into(),
        },
    );
    let s = with_drift(s);
    assert!(kinds(&s).contains(&DriftKind::ConfigRejected));
    let mut a = app(Theme::COLOR, 100, 20, s);
    let b = snapshot("config_rejected", &a);
    find_row(
        &b,
        "CONFIG REJECTED (metallb-controller): configuration rejected: new config",
    );
    update(&mut a, key('5'));
    update(&mut a, key('f'));
    let b = snapshot("config_rejected_events_faults", &a);
    find_row(&b, "InvalidConfig");
    assert!(!line(&b, find_row(&b, "events")).contains("IPAllocated"));
}

/// One fixture per drift kind, each shown where it is most visible.
#[test]
fn each_kind_of_drift() {
    // not_announced: the speakers are up but send nothing, and no router holds it.
    let mut s = lab();
    for sp in &mut s.speakers {
        sp.prefixes_advertised = 0;
    }
    for r in &mut s.routers {
        r.routes.clear();
    }
    let s = with_drift(s);
    assert!(
        kinds(&s).contains(&DriftKind::NotAnnounced),
        "{:?}",
        kinds(&s)
    );
    let mut a = app(Theme::COLOR, 100, 20, s);
    update(&mut a, key('4'));
    let b = snapshot("drift_not_announced", &a);
    find_row(&b, "✗ not announced");
    update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.overlay, Overlay::Why);
    snapshot("drift_not_announced_why", &a);

    // not_held: FRR lost it.
    let mut s = lab();
    s.routers[1].routes.clear();
    let s = with_drift(s);
    assert!(kinds(&s).contains(&DriftKind::NotHeld), "{:?}", kinds(&s));
    let mut a = app(Theme::COLOR, 100, 14, s);
    update(&mut a, key('3'));
    let b = snapshot("drift_not_held", &a);
    find_row(&b, "✗ not held");

    // stale: BIRD holds a prefix no service owns.
    let mut s = lab();
    s.routers[0]
        .routes
        .push(route("198.51.100.7/32", NODE_IP, 3_600_000));
    let s = with_drift(s);
    assert!(kinds(&s).contains(&DriftKind::Stale), "{:?}", kinds(&s));
    let mut a = app(Theme::COLOR, 100, 14, s);
    update(&mut a, key('3'));
    let b = snapshot("drift_stale", &a);
    find_row(&b, "▲ stale");

    // wrong next hop.
    let mut s = lab();
    s.routers[1].routes[0].next_hop = Some("127.0.2.2".parse().unwrap());
    let s = with_drift(s);
    assert!(
        kinds(&s).contains(&DriftKind::WrongNextHop),
        "{:?}",
        kinds(&s)
    );
    let mut a = app(Theme::COLOR, 100, 14, s);
    update(&mut a, key('3'));
    let b = snapshot("drift_wrong_next_hop", &a);
    find_row(&b, "✗ wrong next hop");

    // routers disagree (communities).
    let mut s = lab();
    s.routers[0].routes[0].communities = vec!["64500:1".into()];
    let s = with_drift(s);
    assert!(
        kinds(&s).contains(&DriftKind::RoutersDisagree),
        "{:?}",
        kinds(&s)
    );
    let mut a = app(Theme::COLOR, 100, 14, s);
    update(&mut a, key('3'));
    let b = snapshot("drift_routers_disagree", &a);
    find_row(&b, "▲ routers differ");

    // session down: FRR stopped.
    let mut s = lab();
    s.speakers[1] = speaker("10.96.0.101:179", false, 0);
    s.routers[1] = router("frr", RouterKind::Frr, "10.96.0.101", false, vec![]);
    let s = with_drift(s);
    assert!(
        kinds(&s).contains(&DriftKind::SessionDown),
        "{:?}",
        kinds(&s)
    );
    let mut a = app(Theme::COLOR, 120, 14, s);
    update(&mut a, key('2'));
    let b = snapshot("drift_session_down", &a);
    find_row(&b, "✗ Active");
    find_row(&b, "Connection refused");
    find_row(&b, "sessions 1/2 up");
}

#[test]
fn a_failed_source_is_a_marked_aged_cell() {
    let mut s = lab();
    s.sources[3].health = Health::Failed {
        error: "vtysh: connect /var/run/frr/bgpd.vty: No such file or directory".into(),
        since_ms: NOW - 30_000,
    };
    s.sources[3].last_ok_ms = Some(NOW - 45_000);
    let b = snapshot("failed_source", &app(Theme::COLOR, 100, 20, s));
    find_row(&b, "✗ source frr failing for 30s (last ok 45s ago)");
    find_row(&b, "cannot read the router for 30s");
}

fn big() -> Snapshot {
    let mut s = lab();
    let routes: Vec<RouterRoute> = (0..10_000u32)
        .map(|i| {
            route(
                &format!("198.18.{}.{}/32", i / 256, i % 256),
                NODE_IP,
                60_000 + u64::from(i),
            )
        })
        .collect();
    s.routers.push(RouterView {
        name: "listen".into(),
        kind: RouterKind::Listen,
        address: Some("127.0.0.1:1790".into()),
        asn: Some(64512),
        sessions: vec![],
        routes,
        raw: None,
    });
    s.speakers = (0..1000)
        .map(|i| {
            let mut sp = speaker(
                &format!("10.96.{}.{}:179", i / 250, i % 250),
                i % 7 != 0,
                10,
            );
            sp.node = format!("node-{i:04}");
            sp
        })
        .collect();
    // No drift derivation here: the fixture is about scale, not findings.
    s
}

#[test]
fn ten_thousand_routes_scrolled_to_the_middle() {
    let mut a = app(Theme::COLOR, 100, 20, big());
    update(&mut a, key('3'));
    assert_eq!(a.routes_shown.len(), 10_001);
    a.select(5_000);
    let b = snapshot("routes_10k_middle", &a);
    find_row(&b, "routes 5001/10001");
    // The selected row (index 5000 = 198.18.19.136) is on screen, reversed; its neighbour is not.
    let y = find_row(&b, "198.18.19.136/32");
    assert!(b[(20, y)].modifier.contains(Modifier::REVERSED));
    assert!(!b[(20, y - 1)].modifier.contains(Modifier::REVERSED));
    // k moves the selection up inside the window, which stays put.
    update(&mut a, key('k'));
    let b2 = render(&a).backend().buffer().clone();
    assert_eq!(find_row(&b2, "198.18.19.136/32"), y);
    assert!(b2[(20, y - 1)].modifier.contains(Modifier::REVERSED));
    // G goes to the bottom, g back to the top.
    update(&mut a, key('G'));
    assert_eq!(a.cursor().selected, 10_000);
    update(&mut a, key('g'));
    assert_eq!(a.cursor().selected, 0);
}

#[test]
fn narrow_terminal() {
    let b = snapshot("narrow_60x20", &app(Theme::COLOR, 60, 20, lab()));
    find_row(&b, "bird · bird");
    find_row(&b, "frr · frr");
    // Every tab and the drift verdict still fit in 60 columns.
    find_row(&b, "5:events");
    find_row(&b, "✓ no drift");
    let mut a = app(Theme::COLOR, 60, 20, lab());
    update(&mut a, key('3'));
    snapshot("narrow_60x20_routes", &a);
}

#[test]
fn resizing_keeps_the_selection_on_screen() {
    let mut a = app(Theme::COLOR, 100, 40, big());
    update(&mut a, key('3'));
    a.select(30);
    update(&mut a, Msg::Resize(100, 12));
    let b = render(&a).backend().buffer().clone();
    let y = find_row(&b, "198.18.0.30/32");
    assert!(b[(20, y)].modifier.contains(Modifier::REVERSED));
    // Tiny terminals, every view and window: nothing panics.
    for (w, h) in [(20, 5), (1, 1), (0, 0), (300, 2)] {
        update(&mut a, Msg::Resize(w, h));
        for k in ['1', '2', '3', '4', '5'] {
            update(&mut a, key(k));
            render(&a);
        }
        update(&mut a, key('?'));
        render(&a);
        update(&mut a, code(KeyCode::Esc));
        update(&mut a, key('1'));
        update(&mut a, key('o'));
        render(&a);
        update(&mut a, code(KeyCode::Esc));
        update(&mut a, key('4'));
        update(&mut a, code(KeyCode::Enter));
        render(&a);
        update(&mut a, code(KeyCode::Esc));
    }
}

#[test]
fn no_color_is_a_real_monochrome_theme() {
    // Two rows: BIRD's good route, and FRR's with a wrong next hop.
    let mut s = lab();
    s.routers[1].routes[0].next_hop = Some("127.0.2.2".parse().unwrap());
    let mut a = app(Theme::MONO, 100, 14, with_drift(s));
    update(&mut a, key('3'));
    update(&mut a, key('j'));
    assert_eq!(a.cursor().selected, 1);
    let b = snapshot("no_color_routes", &a);
    for cell in b.content() {
        assert_eq!(
            (cell.fg, cell.bg),
            (ratatui::style::Color::Reset, ratatui::style::Color::Reset),
            "a colour in the monochrome theme at {:?}",
            cell.symbol()
        );
    }
    // The selection is reversed (and bold), so it survives without colour.
    let sel = find_row(&b, "✗ wrong next hop");
    assert!(b[(2, sel)]
        .modifier
        .contains(Modifier::REVERSED | Modifier::BOLD));
    let other = find_row(&b, "127.0.1.1");
    assert_ne!(other, sel);
    assert!(!b[(2, other)].modifier.contains(Modifier::REVERSED));
    // Unselected, a failure mark is bold and underlined, an ok mark plain.
    update(&mut a, key('k'));
    let b2 = render(&a).backend().buffer().clone();
    let x = (0..b2.area.width)
        .find(|&x| b2[(x, sel)].symbol() == "✗")
        .unwrap();
    assert!(b2[(x, sel)]
        .modifier
        .contains(Modifier::BOLD | Modifier::UNDERLINED));
    assert!(!b2[(x, sel)].modifier.contains(Modifier::REVERSED));
    // The active tab is reversed too.
    let tab = find_row(&b, "3:routes");
    let tx = line(&b, tab).find("3:routes").unwrap() as u16;
    assert!(b[(tx, tab)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn the_colour_theme_highlights_the_selection_and_marks_states() {
    let mut a = app(Theme::COLOR, 120, 14, lab());
    update(&mut a, key('2'));
    let b = render(&a).backend().buffer().clone();
    let y = find_row(&b, "10.96.0.100:179");
    assert!(b[(1, y)].modifier.contains(Modifier::REVERSED));
    let y2 = find_row(&b, "10.96.0.101:179");
    assert!(!b[(1, y2)].modifier.contains(Modifier::REVERSED));
    let x = line(&b, y2)
        .find('✓')
        .map(|i| line(&b, y2)[..i].chars().count() as u16)
        .unwrap();
    assert_eq!(b[(x, y2)].fg, ratatui::style::Color::Green);
}

#[test]
fn keys_switch_views_filter_sort_and_quit() {
    let mut a = app(Theme::COLOR, 100, 20, big());
    assert_eq!(a.view, View::Routers);
    update(&mut a, code(KeyCode::Tab));
    assert_eq!(a.view, View::Sessions);
    // : jumps by name or prefix.
    for c in ":routes".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.view, View::Routes);
    // / filters as you type; esc leaves the mode, a second esc clears the filter.
    for c in "/198.18.3.".chars() {
        update(&mut a, key(c));
    }
    assert_eq!(a.routes_shown.len(), 256);
    update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.filters[View::Routes.index()], "198.18.3.");
    update(&mut a, code(KeyCode::Esc));
    assert_eq!(a.routes_shown.len(), 10_001);
    // /! inverts.
    for c in "/!198.18.".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.routes_shown.len(), 1);
    update(&mut a, code(KeyCode::Esc));
    // Shift-T sorts by age (oldest first), again reverses.
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('T'), KeyModifiers::SHIFT)),
    );
    let first = &a.route_rows[a.routes_shown[0]];
    assert_eq!(first.prefix.to_string(), NGINX);
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('T'), KeyModifiers::SHIFT)),
    );
    let first = &a.route_rows[a.routes_shown[0]];
    assert_eq!(first.prefix.to_string(), "198.18.0.0/32");
    // unknown views say so
    for c in ":nope".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, code(KeyCode::Enter));
    assert!(a.notice.as_deref().unwrap().contains("no view"));
    // r asks for a refresh, q and ctrl-c quit.
    assert!(update(&mut a, key('r')).refresh);
    assert!(update(&mut a, key('q')).quit);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(update(&mut a, ctrl_c).quit);
}

#[test]
fn keys_that_change_nothing_do_not_redraw() {
    let mut a = app(Theme::COLOR, 100, 20, lab());
    assert_eq!(update(&mut a, key('z')), Outcome::default());
    assert!(update(&mut a, key('j')).redraw);
}

#[test]
fn faults_only_shows_only_broken_routers() {
    let mut s = lab();
    s.routers[1] = router("frr", RouterKind::Frr, "10.96.0.101", false, vec![]);
    let mut a = app(Theme::COLOR, 100, 20, with_drift(s));
    assert_eq!(a.routers_shown.len(), 2);
    update(&mut a, key('f'));
    assert_eq!(a.routers_shown, [1]);
    let b = snapshot("faults_only_routers", &a);
    find_row(&b, "[faults only]");
}

#[test]
fn help_and_raw_output_windows() {
    let mut a = app(Theme::COLOR, 100, 30, lab());
    update(&mut a, key('?'));
    let b = snapshot("help", &a);
    find_row(&b, "show only faults");
    update(&mut a, code(KeyCode::Esc));
    assert_eq!(a.overlay, Overlay::None);
    update(&mut a, key('l'));
    update(&mut a, key('o'));
    assert_eq!(a.overlay, Overlay::Raw);
    let b = snapshot("raw_output", &a);
    find_row(&b, "frr · raw output");
    find_row(&b, "BGP state:          Established");
}
