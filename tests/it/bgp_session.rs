//! Robustness of the session FSM: whatever a peer sends, the machine never panics, and a
//! reset caused by a malformed message always carries our NOTIFICATION.

use std::net::Ipv4Addr;
use std::time::Instant;

use metallbctl::bgp::packet::{Capability, Ctx, Message, Open};
use metallbctl::bgp::session::{Action, Config, DownReason, Input, Session, State};
use proptest::prelude::*;

fn established() -> (Session, Instant) {
    let t = Instant::now();
    let mut s = Session::new(Config::new(64500, 64501, Ipv4Addr::new(10, 0, 0, 1)));
    s.handle(Input::Start, t);
    s.handle(Input::Connected, t);
    let open = Message::Open(Open {
        asn: 64501,
        hold_time: 9,
        bgp_id: Ipv4Addr::new(10, 0, 0, 2),
        capabilities: vec![Capability::FourOctetAs(64501)],
    });
    s.handle(Input::Data(&open.encode(&Ctx::default()).unwrap()), t);
    s.handle(
        Input::Data(&Message::Keepalive.encode(&Ctx::default()).unwrap()),
        t,
    );
    assert_eq!(s.state(), State::Established);
    (s, t)
}

proptest! {
    #[test]
    fn garbage_from_a_peer_resets_with_notification(
        t in 1u8..6,
        body in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let (mut s, now) = established();
        let mut b = vec![0xff; 16];
        b.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        b.push(t);
        b.extend_from_slice(&body);
        let actions = s.handle(Input::Data(&b), now);
        if s.state() == State::Idle {
            let down = actions.iter().find_map(|a| match a {
                Action::Down(r) => Some(r.clone()),
                _ => None,
            });
            prop_assert!(actions.contains(&Action::Disconnect));
            prop_assert!(matches!(down, Some(DownReason::Sent(_)) | Some(DownReason::Received(_))));
        }
    }

    #[test]
    fn random_bytes_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8)) {
        let (mut s, now) = established();
        for c in &chunks {
            s.handle(Input::Data(c), now);
        }
    }
}
