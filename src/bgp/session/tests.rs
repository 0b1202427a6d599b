//! Scripted-input tests of the session FSM: no sockets, no clocks.

use super::*;
use crate::bgp::packet::{AsSegment, Attributes, ErrorAction, Origin};

const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A session started with `config` whose TCP connection has just come up, and the time.
fn connected(config: Config) -> (Session, Instant) {
    let mut s = Session::new(config);
    let t = Instant::now();
    s.handle(Input::Start, t);
    s.handle(Input::Connected, t);
    (s, t)
}

fn cfg(hold: u16) -> Config {
    let mut c = Config::new(64500, 64501, ME);
    c.hold_time = hold;
    c
}

fn peer_open(asn: u32, hold: u16) -> Vec<u8> {
    Message::Open(Open {
        asn,
        hold_time: hold,
        bgp_id: PEER,
        capabilities: vec![
            Capability::Multiprotocol { afi: 1, safi: 1 },
            Capability::FourOctetAs(asn),
        ],
    })
    .encode(&Ctx::default())
    .unwrap()
}

fn keepalive() -> Vec<u8> {
    Message::Keepalive.encode(&Ctx::default()).unwrap()
}

fn sent_messages(actions: &[Action]) -> Vec<Message> {
    let ctx = Ctx {
        four_octet_as: true,
    };
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some(Message::decode(b, &ctx).unwrap()),
            _ => None,
        })
        .collect()
}

fn notification_sent(actions: &[Action]) -> Option<(u8, u8)> {
    sent_messages(actions).into_iter().find_map(|m| match m {
        Message::Notification(n) => Some((n.code, n.subcode)),
        _ => None,
    })
}

/// Drives a fresh session to Established; returns it and the time used.
fn established(hold_ours: u16, hold_theirs: u16) -> (Session, Instant) {
    let t = Instant::now();
    let mut s = Session::new(cfg(hold_ours));
    assert_eq!(
        s.handle(Input::Start, t),
        vec![
            Action::StateChanged {
                from: State::Idle,
                to: State::Connect
            },
            Action::Connect,
        ]
    );
    let a = s.handle(Input::Connected, t);
    assert!(matches!(sent_messages(&a)[..], [Message::Open(_)]));
    assert_eq!(s.state(), State::OpenSent);
    let a = s.handle(Input::Data(&peer_open(64501, hold_theirs)), t);
    assert_eq!(sent_messages(&a), vec![Message::Keepalive]);
    assert_eq!(s.state(), State::OpenConfirm);
    let a = s.handle(Input::Data(&keepalive()), t);
    assert!(a.iter().any(|a| matches!(a, Action::Established(_))));
    assert_eq!(s.state(), State::Established);
    (s, t)
}

#[test]
fn active_open_reaches_established() {
    let (s, _) = established(90, 90);
    assert_eq!(s.sent.open, 1);
    assert_eq!(s.received.keepalive, 1);
}

#[test]
fn passive_start_waits_in_active() {
    let mut c = cfg(90);
    c.passive = true;
    let mut s = Session::new(c);
    let a = s.handle(Input::Start, Instant::now());
    assert!(!a.contains(&Action::Connect));
    assert_eq!(s.state(), State::Active);
}

#[test]
fn hold_time_is_the_minimum_and_keepalive_a_third() {
    let (s, t) = established(90, 9);
    let n = s.negotiated().unwrap();
    assert_eq!((n.hold_time, n.keepalive), (9, 3));
    assert!(n.ctx.four_octet_as);
    assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(3)));
}

#[test]
fn hold_time_zero_disables_timers() {
    let (s, _) = established(90, 0);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn keepalive_timer_sends_keepalive() {
    let (mut s, t) = established(3, 3);
    let a = s.handle(Input::Timeout, t + Duration::from_secs(1));
    assert_eq!(sent_messages(&a), vec![Message::Keepalive]);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn hold_timer_expiry_sends_notification_and_resets() {
    let (mut s, t) = established(3, 3);
    // A KEEPALIVE at 2 s pushes the hold deadline to 5 s.
    s.handle(Input::Data(&keepalive()), t + Duration::from_secs(2));
    let a = s.handle(Input::Timeout, t + Duration::from_secs(4));
    assert_eq!(s.state(), State::Established);
    assert_eq!(notification_sent(&a), None);
    let a = s.handle(Input::Timeout, t + Duration::from_secs(5));
    assert_eq!(notification_sent(&a), Some((4, 0)));
    assert!(a.contains(&Action::Disconnect));
    assert!(a.contains(&Action::Down(DownReason::HoldTimerExpired)));
    assert_eq!(s.state(), State::Idle);
    // Automatic restart after the first backoff step.
    assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(6)));
    let a = s.handle(Input::Timeout, t + Duration::from_secs(6));
    assert!(a.contains(&Action::Connect));
}

#[test]
fn wrong_peer_as_is_bad_peer_as() {
    let (mut s, t) = connected(cfg(90));
    let a = s.handle(Input::Data(&peer_open(65000, 90)), t);
    assert_eq!(notification_sent(&a), Some((2, 2)));
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn ibgp_same_router_id_is_bad_identifier() {
    let (mut s, t) = connected(Config::new(64500, 64500, PEER));
    let a = s.handle(Input::Data(&peer_open(64500, 90)), t);
    assert_eq!(notification_sent(&a), Some((2, 3)));
}

#[test]
fn update_before_established_is_fsm_error() {
    let (mut s, t) = connected(cfg(90));
    let eor = Message::Update(Update::default())
        .encode(&Ctx::default())
        .unwrap();
    let a = s.handle(Input::Data(&eor), t);
    assert_eq!(notification_sent(&a), Some((5, 1)));
}

/// An UPDATE message from its three parts (RFC 4271 §4.3), header included.
fn update_bytes(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16::try_from(withdrawn.len()).unwrap().to_be_bytes());
    body.extend_from_slice(withdrawn);
    body.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    body.extend_from_slice(attrs);
    body.extend_from_slice(nlri);
    let mut b = vec![0xff; 16];
    b.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    b.push(2);
    b.extend_from_slice(&body);
    b
}

/// ORIGIN IGP, AS_PATH [64501], NEXT_HOP 10.0.0.2 with 4-octet ASes: a valid eBGP set.
const GOOD_ATTRS: [u8; 20] = [
    0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfb, 0xf5, 0x40, 3, 4, 10, 0, 0, 2,
];

fn good_attrs() -> Vec<u8> {
    GOOD_ATTRS.to_vec()
}

/// 198.51.100.10/32 as NLRI.
const NLRI: [u8; 5] = [32, 198, 51, 100, 10];

fn received(actions: &[Action]) -> Vec<Update> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Received(u) => Some(u.clone()),
            _ => None,
        })
        .collect()
}

fn faults(actions: &[Action]) -> Vec<ErrorAction> {
    actions
        .iter()
        .flat_map(|a| match a {
            Action::UpdateErrors(f) => f.iter().map(|f| f.action).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// RFC 7606 §7.2: a zero-length AS_PATH segment is treat-as-withdraw, not a reset (RFC
/// 4271 alone would send 3/11). The session stays up and the prefix comes back withdrawn.
#[test]
fn malformed_as_path_is_treat_as_withdraw() {
    let (mut s, t) = established(90, 90);
    let attrs = [0x40, 1, 1, 2, 0x40, 2, 2, 2, 0, 0x40, 3, 4, 1, 2, 3, 4];
    let a = s.handle(Input::Data(&update_bytes(&[], &attrs, &[8, 10])), t);
    assert_eq!(notification_sent(&a), None);
    assert_eq!(s.state(), State::Established);
    assert_eq!(faults(&a), vec![ErrorAction::TreatAsWithdraw]);
    let u = received(&a);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].withdrawn, vec!["10.0.0.0/8".parse().unwrap()]);
    assert!(u[0].nlri.is_empty() && u[0].attrs.is_empty());
    assert_eq!(s.update_errors.treat_as_withdraw, 1);
}

#[test]
fn rfc7606_treat_as_withdraw_keeps_the_session() {
    // Each case: the good attribute set with one attribute broken.
    let mut bad_origin = good_attrs();
    bad_origin[3] = 9;
    let mut bad_next_hop = good_attrs();
    bad_next_hop[16..20].copy_from_slice(&[0, 0, 0, 0]);
    let missing_next_hop = good_attrs()[..13].to_vec();
    let mut bad_communities = good_attrs();
    bad_communities.extend_from_slice(&[0xc0, 8, 2, 0, 1]);
    let mut overrun = good_attrs();
    overrun.extend_from_slice(&[0xc0, 8, 40, 0, 0, 0, 1]);
    for (what, attrs) in [
        ("invalid ORIGIN", bad_origin),
        ("NEXT_HOP 0.0.0.0", bad_next_hop),
        ("missing NEXT_HOP", missing_next_hop),
        ("COMMUNITIES of 2 octets", bad_communities),
        ("attribute overruns the block", overrun),
    ] {
        let (mut s, t) = established(90, 90);
        // The same prefix announced properly first, so the withdrawal matters.
        let a = s.handle(Input::Data(&update_bytes(&[], &good_attrs(), &NLRI)), t);
        assert_eq!(received(&a)[0].nlri.len(), 1, "{what}");
        let a = s.handle(Input::Data(&update_bytes(&[], &attrs, &NLRI)), t);
        assert_eq!(notification_sent(&a), None, "{what}");
        assert_eq!(s.state(), State::Established, "{what}");
        assert_eq!(faults(&a), vec![ErrorAction::TreatAsWithdraw], "{what}");
        let u = received(&a);
        assert_eq!(
            u[0].withdrawn,
            vec!["198.51.100.10/32".parse().unwrap()],
            "{what}"
        );
        assert!(u[0].nlri.is_empty(), "{what}");
    }
}

#[test]
fn rfc7606_attribute_discard_keeps_the_route() {
    let (mut s, t) = established(90, 90);
    let mut attrs = good_attrs();
    attrs.extend_from_slice(&[0x40, 6, 1, 0]); // ATOMIC_AGGREGATE with a value.
    attrs.extend_from_slice(&[0x40, 1, 1, 2]); // ORIGIN again.
    let a = s.handle(Input::Data(&update_bytes(&[], &attrs, &NLRI)), t);
    assert_eq!(s.state(), State::Established);
    assert_eq!(
        faults(&a),
        vec![ErrorAction::AttributeDiscard, ErrorAction::AttributeDiscard]
    );
    let u = received(&a);
    assert_eq!(u[0].nlri, vec!["198.51.100.10/32".parse().unwrap()]);
    assert_eq!(u[0].attrs.origin, Some(Origin::Igp));
    assert!(!u[0].attrs.atomic_aggregate);
    assert_eq!(s.update_errors.attributes_discarded, 2);
}

#[test]
fn a_malformed_local_pref_is_discarded_from_an_external_peer_and_withdraws_from_an_internal_one() {
    // LOCAL_PREF of 5 octets (RFC 7606 §7.5).
    let mut attrs = good_attrs();
    attrs.extend_from_slice(&[0x40, 5, 5, 0, 0, 0, 0, 200]);
    let (mut s, t) = established(90, 90);
    let a = s.handle(Input::Data(&update_bytes(&[], &attrs, &NLRI)), t);
    assert_eq!(faults(&a), vec![ErrorAction::AttributeDiscard], "eBGP");
    assert_eq!(received(&a)[0].nlri.len(), 1, "eBGP: the route stays");
    let mut ibgp = Session::new(Config::new(64501, 64501, ME));
    ibgp.handle(Input::Start, t);
    ibgp.handle(Input::Connected, t);
    ibgp.handle(Input::Data(&peer_open(64501, 90)), t);
    ibgp.handle(Input::Data(&keepalive()), t);
    assert_eq!(ibgp.state(), State::Established);
    let a = ibgp.handle(Input::Data(&update_bytes(&[], &attrs, &NLRI)), t);
    assert_eq!(faults(&a), vec![ErrorAction::TreatAsWithdraw], "iBGP");
    assert!(received(&a)[0].nlri.is_empty(), "iBGP: withdrawn");
}

#[test]
fn local_pref_from_an_external_peer_is_discarded() {
    let (mut s, t) = established(90, 90);
    let mut attrs = good_attrs();
    attrs.extend_from_slice(&[0x40, 5, 4, 0, 0, 0, 200]);
    let a = s.handle(Input::Data(&update_bytes(&[], &attrs, &NLRI)), t);
    assert_eq!(faults(&a), vec![ErrorAction::AttributeDiscard]);
    let u = received(&a);
    assert_eq!(u[0].attrs.local_pref, None);
    assert_eq!(u[0].nlri.len(), 1);
}

#[test]
fn rfc7606_session_reset_where_it_must() {
    let mp_reach_bad_nh = [0x80, 14, 9, 0, 2, 1, 5, 0, 0, 0, 0, 0, 0];
    let mp_unreach = [0x80, 15, 3, 0, 2, 1];
    let mp_twice = [&mp_unreach[..], &mp_unreach[..]].concat();
    for (what, withdrawn, attrs, nlri, code) in [
        (
            "MP_REACH next hop length 5 (§7.11)",
            &[][..],
            &mp_reach_bad_nh[..12],
            &[][..],
            (3, 9),
        ),
        ("MP_UNREACH twice (§3(g))", &[], &mp_twice[..], &[], (3, 1)),
        (
            "NLRI prefix length 33 (§5.3)",
            &[],
            &GOOD_ATTRS[..],
            &[33, 1, 2, 3, 4, 5],
            (3, 10),
        ),
        (
            "withdrawn prefix truncated (§5.3)",
            &[24, 10][..],
            &[],
            &[],
            (3, 10),
        ),
        (
            "unrecognized well-known attribute",
            &[],
            &[0x40, 99, 0],
            &[],
            (3, 2),
        ),
    ] {
        let (mut s, t) = established(90, 90);
        let a = s.handle(Input::Data(&update_bytes(withdrawn, attrs, nlri)), t);
        assert_eq!(notification_sent(&a), Some(code), "{what}");
        assert!(a.contains(&Action::Disconnect), "{what}");
        assert_eq!(s.state(), State::Idle, "{what}");
    }
}

#[test]
fn bad_header_sends_header_error() {
    let (mut s, t) = established(90, 90);
    let a = s.handle(Input::Data(&[0u8; 19]), t);
    assert_eq!(notification_sent(&a), Some((1, 1)));
}

#[test]
fn updates_are_delivered_in_established_even_split_byte_by_byte() {
    let (mut s, t) = established(90, 90);
    let u = Update {
        attrs: Attributes {
            origin: Some(Origin::Igp),
            as_path: Some(vec![AsSegment::Sequence(vec![64501])]),
            next_hop: Some(PEER),
            ..Default::default()
        },
        nlri: vec!["198.51.100.10/32".parse().unwrap()],
        ..Default::default()
    };
    let b = Message::Update(u.clone()).encode(&s.ctx()).unwrap();
    let mut got = Vec::new();
    for byte in b {
        got.extend(s.handle(Input::Data(&[byte]), t));
    }
    assert_eq!(got, vec![Action::Received(u)]);
    assert_eq!(s.received.update, 1);
}

#[test]
fn peer_notification_closes_without_reply() {
    let (mut s, t) = established(90, 90);
    let n = Notification {
        code: 6,
        subcode: 2,
        data: vec![],
    };
    let a = s.handle(
        Input::Data(&Message::Notification(n.clone()).encode(&s.ctx()).unwrap()),
        t,
    );
    assert_eq!(sent_messages(&a), vec![]);
    assert!(a.contains(&Action::Down(DownReason::Received(n))));
}

#[test]
fn stop_sends_cease_and_does_not_restart() {
    let (mut s, t) = established(90, 90);
    let a = s.handle(Input::Stop, t);
    assert_eq!(notification_sent(&a), Some((6, 2)));
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn reconnect_backoff_doubles_up_to_the_cap() {
    let mut c = cfg(90);
    c.backoff_max = Duration::from_secs(8);
    let mut s = Session::new(c);
    let mut t = Instant::now();
    s.handle(Input::Start, t);
    let mut delays = Vec::new();
    for _ in 0..6 {
        s.handle(Input::ConnectFailed, t);
        let next = s.poll_timeout().unwrap();
        delays.push((next - t).as_secs());
        t = next;
        assert!(s.handle(Input::Timeout, t).contains(&Action::Connect));
    }
    assert_eq!(delays, vec![1, 2, 4, 8, 8, 8]);
}

#[test]
fn backoff_resets_after_established() {
    let (mut s, t) = established(90, 90);
    s.handle(Input::Disconnected, t);
    assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(1)));
}

#[test]
fn updates_are_only_sent_when_established() {
    let mut s = Session::new(cfg(90));
    let u = Update::default();
    assert!(s.handle(Input::Send(&u), Instant::now()).is_empty());
    let (mut s, t) = established(90, 90);
    assert_eq!(sent_messages(&s.handle(Input::Send(&u), t)).len(), 1);
}

#[test]
fn an_update_too_big_to_encode_is_not_sent_and_the_session_stays() {
    let (mut s, t) = established(90, 90);
    let u = Update {
        attrs: Attributes {
            origin: Some(Origin::Igp),
            as_path: Some(vec![]),
            next_hop: Some(PEER),
            communities: (0..2000).collect(),
            ..Default::default()
        },
        nlri: vec!["198.51.100.10/32".parse().unwrap()],
        ..Default::default()
    };
    let a = s.handle(Input::Send(&u), t);
    assert!(matches!(a[..], [Action::NotSent(_)]), "{a:?}");
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.sent.update, 0);
}
