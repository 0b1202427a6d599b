//! The BGP-4 session finite state machine (RFC 4271 §8), Sans-IO.
//!
//! Inputs are events plus the current `Instant`; outputs are actions for a driver to carry out
//! (connect, send bytes, close, report). Timers are deadlines the driver reads with
//! `poll_timeout` and reports with `Input::Timeout`. This module must not depend on tokio,
//! sockets, clocks or global state; it uses only `packet`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::packet::iana::{err, AFI_IPV4, AFI_IPV6, SAFI_UNICAST};
use super::packet::{
    frame, Capability, Ctx, DecodeError, EncodeError, ErrorAction, Message, Notification, Open,
    PeerKind, Update, UpdateFault,
};

/// Session states (RFC 4271 §8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

/// Static session parameters.
#[derive(Debug, Clone)]
pub struct Config {
    pub local_as: u32,
    pub peer_as: u32,
    pub router_id: Ipv4Addr,
    /// Hold time we offer, seconds; 0 disables keepalives and the hold timer.
    pub hold_time: u16,
    /// Wait for the peer to connect instead of dialling (RFC 4271 PassiveTcpEstablishment).
    pub passive: bool,
    /// Start again after a failure, after the backoff delay.
    pub auto_restart: bool,
    pub ipv4: bool,
    pub ipv6: bool,
    /// First reconnect delay; doubles after each failure up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Hold timer while waiting for the peer's OPEN (RFC 4271 suggests 4 minutes).
    pub open_hold_time: Duration,
}

impl Config {
    pub fn new(local_as: u32, peer_as: u32, router_id: Ipv4Addr) -> Self {
        Config {
            local_as,
            peer_as,
            router_id,
            hold_time: 90,
            passive: false,
            auto_restart: true,
            ipv4: true,
            ipv6: true,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(120),
            open_hold_time: Duration::from_secs(240),
        }
    }

    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.peer_as
    }

    fn open(&self) -> Open {
        let mut capabilities = Vec::new();
        if self.ipv4 {
            capabilities.push(Capability::Multiprotocol {
                afi: AFI_IPV4,
                safi: SAFI_UNICAST,
            });
        }
        if self.ipv6 {
            capabilities.push(Capability::Multiprotocol {
                afi: AFI_IPV6,
                safi: SAFI_UNICAST,
            });
        }
        capabilities.push(Capability::RouteRefresh);
        capabilities.push(Capability::FourOctetAs(self.local_as));
        Open {
            asn: self.local_as,
            hold_time: self.hold_time,
            bgp_id: self.router_id,
            capabilities,
        }
    }
}

/// What both OPENs agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub hold_time: u16,
    pub keepalive: u16,
    pub ctx: Ctx,
    pub peer_id: Ipv4Addr,
    pub peer_as: u32,
    pub local_caps: Vec<Capability>,
    pub peer_caps: Vec<Capability>,
    pub ipv4: bool,
    pub ipv6: bool,
}

/// Messages counted by type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MessageCounts {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
}

impl MessageCounts {
    fn count(&mut self, type_code: u8) {
        use super::packet::iana::msg;
        match type_code {
            msg::OPEN => self.open += 1,
            msg::UPDATE => self.update += 1,
            msg::NOTIFICATION => self.notification += 1,
            msg::KEEPALIVE => self.keepalive += 1,
            _ => self.route_refresh += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.open + self.update + self.notification + self.keepalive + self.route_refresh
    }
}

/// Received UPDATEs that RFC 7606 error handling repaired instead of resetting the session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpdateErrorCounts {
    /// UPDATEs whose announcements were treated as withdrawals.
    pub treat_as_withdraw: u64,
    /// Attributes dropped ("attribute discard"), counted one by one.
    pub attributes_discarded: u64,
}

impl UpdateErrorCounts {
    pub fn is_zero(&self) -> bool {
        *self == UpdateErrorCounts::default()
    }

    fn record(&mut self, faults: &[UpdateFault]) {
        let discarded = faults
            .iter()
            .filter(|f| f.action == ErrorAction::AttributeDiscard)
            .count();
        self.attributes_discarded += discarded as u64;
        if faults
            .iter()
            .any(|f| f.action == ErrorAction::TreatAsWithdraw)
        {
            self.treat_as_withdraw += 1;
        }
    }
}

/// Why a session went down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownReason {
    #[error("hold timer expired")]
    HoldTimerExpired,
    #[error("received NOTIFICATION: {}", .0.describe())]
    Received(Notification),
    #[error("sent NOTIFICATION: {}", .0.describe())]
    Sent(Notification),
    #[error("connection lost")]
    ConnectionLost,
    #[error("connect failed")]
    ConnectFailed,
    #[error("stopped")]
    Stopped,
}

/// Events into the machine (RFC 4271 §8.1 names in the comments of `Session::handle`).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Start,
    Stop,
    Connected,
    ConnectFailed,
    Disconnected,
    Data(&'a [u8]),
    Send(&'a Update),
    Timeout,
}

/// Work for the driver.
// Received UPDATEs are the common case; boxing them would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection to the peer, then report `Connected` or `ConnectFailed`.
    Connect,
    Send(Vec<u8>),
    /// Close the TCP connection.
    Disconnect,
    StateChanged {
        from: State,
        to: State,
    },
    Established(Box<Negotiated>),
    Received(Update),
    /// A message that could not be encoded (a length that does not fit) and was not sent.
    NotSent(EncodeError),
    /// Errors in the UPDATE that follows (as `Received`) that RFC 7606 handling tolerated:
    /// it arrives already repaired. For logs and counters.
    UpdateErrors(Vec<UpdateFault>),
    /// The peer asked for our routes again (RFC 2918).
    RouteRefresh,
    Down(DownReason),
}

/// One session's state machine.
#[derive(Debug)]
pub struct Session {
    cfg: Config,
    state: State,
    negotiated: Option<Negotiated>,
    rx: Vec<u8>,
    hold_deadline: Option<Instant>,
    keepalive_deadline: Option<Instant>,
    restart_deadline: Option<Instant>,
    backoff: Duration,
    /// The AS number the peer's last OPEN claimed (for messages about a Bad Peer AS).
    open_as: Option<u32>,
    pub sent: MessageCounts,
    pub received: MessageCounts,
    pub update_errors: UpdateErrorCounts,
}

impl Session {
    pub fn new(cfg: Config) -> Self {
        let backoff = cfg.backoff_min;
        Session {
            cfg,
            state: State::Idle,
            negotiated: None,
            rx: Vec::new(),
            hold_deadline: None,
            keepalive_deadline: None,
            restart_deadline: None,
            backoff,
            open_as: None,
            sent: MessageCounts::default(),
            received: MessageCounts::default(),
            update_errors: UpdateErrorCounts::default(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The AS number the peer's last OPEN claimed, if one arrived.
    pub fn open_as(&self) -> Option<u32> {
        self.open_as
    }

    /// When the session starts again after a failure (`None`: it does not).
    pub fn restart_at(&self) -> Option<Instant> {
        self.restart_deadline
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The codec context for this session (before negotiation: 2-octet ASNs).
    pub fn ctx(&self) -> Ctx {
        self.negotiated.as_ref().map(|n| n.ctx).unwrap_or_default()
    }

    /// The earliest timer deadline; the driver calls `handle(Input::Timeout, ..)` then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.hold_deadline,
            self.keepalive_deadline,
            self.restart_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Feeds one event; returns what the driver must do, in order.
    pub fn handle(&mut self, input: Input<'_>, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            // Event 1 ManualStart / Event 4 ManualStart_with_PassiveTcpEstablishment.
            Input::Start if self.state == State::Idle => self.start(now, &mut out),
            Input::Start => {}
            // Event 2 ManualStop: Cease / Administrative Shutdown if a session exists.
            Input::Stop => self.stop(now, &mut out),
            // Event 16 Tcp_CR_Acked / Event 17 TcpConnectionConfirmed.
            Input::Connected => self.connected(now, &mut out),
            // Event 18 TcpConnectionFails while connecting.
            Input::ConnectFailed => self.down(DownReason::ConnectFailed, now, &mut out),
            // Event 18 TcpConnectionFails on an open connection.
            Input::Disconnected if self.state != State::Idle => {
                self.down(DownReason::ConnectionLost, now, &mut out)
            }
            Input::Disconnected => {}
            Input::Data(bytes) => self.data(bytes, now, &mut out),
            Input::Send(update) => self.send_update(update, now, &mut out),
            Input::Timeout => self.timeout(now, &mut out),
        }
        out
    }

    fn set_state(&mut self, to: State, out: &mut Vec<Action>) {
        if to != self.state {
            out.push(Action::StateChanged {
                from: self.state,
                to,
            });
            self.state = to;
        }
    }

    fn start(&mut self, _now: Instant, out: &mut Vec<Action>) {
        self.restart_deadline = None;
        if self.cfg.passive {
            self.set_state(State::Active, out);
        } else {
            self.set_state(State::Connect, out);
            out.push(Action::Connect);
        }
    }

    fn stop(&mut self, now: Instant, out: &mut Vec<Action>) {
        let cease = Notification {
            code: err::CEASE,
            subcode: err::ADMINISTRATIVE_SHUTDOWN,
            data: vec![],
        };
        if matches!(
            self.state,
            State::OpenSent | State::OpenConfirm | State::Established
        ) {
            self.send(&Message::Notification(cease), now, out);
        }
        self.cfg.auto_restart = false;
        self.down(DownReason::Stopped, now, out);
    }

    fn connected(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !matches!(self.state, State::Connect | State::Active) {
            // A connection we did not ask for: refuse it (Cease / Connection Rejected).
            return;
        }
        self.rx.clear();
        let open = self.cfg.open();
        self.send(&Message::Open(open), now, out);
        self.hold_deadline = Some(now + self.cfg.open_hold_time);
        self.set_state(State::OpenSent, out);
    }

    fn send(&mut self, m: &Message, now: Instant, out: &mut Vec<Action>) {
        let bytes = match m.encode(&self.ctx()) {
            Ok(b) => b,
            // Nothing is sent rather than a message cut short; the session stays as it is.
            Err(e) => return out.push(Action::NotSent(e)),
        };
        self.sent.count(m.type_code());
        out.push(Action::Send(bytes));
        // Any message we send proves liveness, so the next KEEPALIVE can wait.
        if let (Some(n), true) = (&self.negotiated, self.keepalive_deadline.is_some()) {
            self.keepalive_deadline = Some(now + Duration::from_secs(n.keepalive.into()));
        }
    }

    fn send_update(&mut self, u: &Update, now: Instant, out: &mut Vec<Action>) {
        if self.state == State::Established {
            self.send(&Message::Update(u.clone()), now, out);
        }
    }

    /// Leaves the session: close the connection, clear timers, schedule a restart.
    fn down(&mut self, reason: DownReason, now: Instant, out: &mut Vec<Action>) {
        let was = self.state;
        self.hold_deadline = None;
        self.keepalive_deadline = None;
        self.negotiated = None;
        self.rx.clear();
        if !matches!(was, State::Idle | State::Active) {
            out.push(Action::Disconnect);
        }
        self.set_state(State::Idle, out);
        out.push(Action::Down(reason));
        if self.cfg.auto_restart {
            // RFC 4271 §8.1.1 DampPeerOscillations: IdleHoldTimer with exponential backoff.
            self.restart_deadline = Some(now + self.backoff);
            self.backoff = (self.backoff * 2).min(self.cfg.backoff_max);
        } else {
            self.restart_deadline = None;
        }
    }

    fn timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.hold_deadline.is_some_and(|d| d <= now) {
            // Event 10 HoldTimer_Expires: NOTIFICATION Hold Timer Expired.
            let n = Notification {
                code: err::HOLD_TIMER_EXPIRED,
                subcode: 0,
                data: vec![],
            };
            self.send(&Message::Notification(n), now, out);
            self.down(DownReason::HoldTimerExpired, now, out);
            return;
        }
        if let Some(d) = self.keepalive_deadline.filter(|d| *d <= now) {
            // Event 11 KeepaliveTimer_Expires: send KEEPALIVE, restart the timer.
            self.send(&Message::Keepalive, now, out);
            if self.keepalive_deadline == Some(d) {
                self.keepalive_deadline = Some(now + self.keepalive_interval());
            }
        }
        if self.restart_deadline.is_some_and(|d| d <= now) && self.state == State::Idle {
            // Event 13 IdleHoldTimer_Expires -> Event 3/5 AutomaticStart.
            self.start(now, out);
        }
    }

    fn keepalive_interval(&self) -> Duration {
        let k = self.negotiated.as_ref().map_or(30, |n| n.keepalive.max(1));
        Duration::from_secs(k.into())
    }

    fn data(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<Action>) {
        if matches!(self.state, State::Idle | State::Connect | State::Active) {
            return;
        }
        self.rx.extend_from_slice(bytes);
        let mut pos = 0;
        while self.state != State::Idle {
            let len = match frame(&self.rx[pos..]) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                // Event 21 BGPHeaderErr.
                Err(e) => return self.protocol_error(&e, now, out),
            };
            let kind = if self.cfg.is_ibgp() {
                PeerKind::Internal
            } else {
                PeerKind::External
            };
            let msg = Message::decode_from(&self.rx[pos..pos + len], &self.ctx(), kind);
            self.received.count(self.rx[pos + 18]);
            pos += len;
            match msg {
                Ok(d) => {
                    if self.state == State::Established && !d.faults.is_empty() {
                        self.update_errors.record(&d.faults);
                        out.push(Action::UpdateErrors(d.faults));
                    }
                    self.message(d.message, now, out)
                }
                // Event 22 BGPOpenMsgErr / Event 28 UpdateMsgErr.
                Err(e) => return self.protocol_error(&e, now, out),
            }
        }
        if self.state == State::Idle {
            self.rx.clear();
        } else {
            self.rx.drain(..pos);
        }
    }

    fn protocol_error(&mut self, e: &DecodeError, now: Instant, out: &mut Vec<Action>) {
        let n = Notification::from_error(e);
        self.send(&Message::Notification(n.clone()), now, out);
        self.down(DownReason::Sent(n), now, out);
    }

    /// FSM error for a message the state does not expect (RFC 6608 subcodes 1..=3).
    fn fsm_error(&mut self, now: Instant, out: &mut Vec<Action>) {
        let subcode = match self.state {
            State::OpenSent => 1,
            State::OpenConfirm => 2,
            _ => 3,
        };
        let n = Notification {
            code: err::FSM,
            subcode,
            data: vec![],
        };
        self.send(&Message::Notification(n.clone()), now, out);
        self.down(DownReason::Sent(n), now, out);
    }

    fn message(&mut self, m: Message, now: Instant, out: &mut Vec<Action>) {
        if let Some(n) = &self.negotiated {
            if n.hold_time > 0 {
                // Any message restarts the hold timer (§4.4).
                self.hold_deadline = Some(now + Duration::from_secs(n.hold_time.into()));
            }
        }
        match (self.state, m) {
            // Event 25 NotifMsg (and 24 NotifMsgVerErr): the peer closes the session.
            (_, Message::Notification(n)) => self.down(DownReason::Received(n), now, out),
            // Event 19 BGPOpen.
            (State::OpenSent, Message::Open(o)) => self.open_received(o, now, out),
            // Event 26 KeepAliveMsg in OpenConfirm.
            (State::OpenConfirm, Message::Keepalive) => self.established(now, out),
            // Event 26 KeepAliveMsg in Established.
            (State::Established, Message::Keepalive) => {}
            // Event 27 UpdateMsg.
            (State::Established, Message::Update(u)) => out.push(Action::Received(u)),
            (State::Established, Message::RouteRefresh { .. }) => out.push(Action::RouteRefresh),
            // Events 19-28 in any other state: FSM error.
            _ => self.fsm_error(now, out),
        }
    }

    fn open_received(&mut self, o: Open, now: Instant, out: &mut Vec<Action>) {
        self.open_as = Some(o.asn);
        if let Some(e) = self.check_open(&o) {
            return self.protocol_error_code(e, now, out);
        }
        let hold = self.cfg.hold_time.min(o.hold_time);
        let local = self.cfg.open();
        let has_mp = |caps: &[Capability], afi| {
            caps.contains(&Capability::Multiprotocol {
                afi,
                safi: SAFI_UNICAST,
            })
        };
        let peer_mp = o
            .capabilities
            .iter()
            .any(|c| matches!(c, Capability::Multiprotocol { .. }));
        let n = Negotiated {
            hold_time: hold,
            keepalive: hold / 3,
            ctx: Ctx {
                four_octet_as: o.four_octet_as(),
            },
            peer_id: o.bgp_id,
            peer_as: o.asn,
            // RFC 4760: a peer without MP capabilities speaks IPv4 unicast only.
            ipv4: self.cfg.ipv4 && (!peer_mp || has_mp(&o.capabilities, AFI_IPV4)),
            ipv6: self.cfg.ipv6 && has_mp(&o.capabilities, AFI_IPV6),
            local_caps: local.capabilities,
            peer_caps: o.capabilities,
        };
        self.negotiated = Some(n);
        self.send(&Message::Keepalive, now, out);
        self.arm_session_timers(now);
        self.set_state(State::OpenConfirm, out);
    }

    fn arm_session_timers(&mut self, now: Instant) {
        let Some(n) = &self.negotiated else { return };
        if n.hold_time == 0 {
            self.hold_deadline = None;
            self.keepalive_deadline = None;
        } else {
            self.hold_deadline = Some(now + Duration::from_secs(n.hold_time.into()));
            self.keepalive_deadline = Some(now + Duration::from_secs(n.keepalive.into()));
        }
    }

    fn check_open(&self, o: &Open) -> Option<(u8, u8)> {
        if o.asn != self.cfg.peer_as {
            return Some((err::OPEN_MESSAGE, err::BAD_PEER_AS));
        }
        // RFC 4271 §6.2: on iBGP the identifiers must differ.
        if self.cfg.is_ibgp() && o.bgp_id == self.cfg.router_id {
            return Some((err::OPEN_MESSAGE, err::BAD_BGP_IDENTIFIER));
        }
        None
    }

    fn protocol_error_code(
        &mut self,
        (code, subcode): (u8, u8),
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let n = Notification {
            code,
            subcode,
            data: vec![],
        };
        self.send(&Message::Notification(n.clone()), now, out);
        self.down(DownReason::Sent(n), now, out);
    }

    fn established(&mut self, _now: Instant, out: &mut Vec<Action>) {
        self.backoff = self.cfg.backoff_min;
        self.set_state(State::Established, out);
        if let Some(n) = &self.negotiated {
            out.push(Action::Established(Box::new(n.clone())));
        }
    }
}

#[cfg(test)]
mod tests;
