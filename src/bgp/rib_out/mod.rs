//! The Adj-RIB-Out: per-peer desired routes (`Routes` of `Advert`s) diffed against what the
//! peer was sent, and the difference packed into UPDATEs (`pack`). Pure: no sockets, no clocks,
//! no async runtime; the driver feeds it what the session negotiated (`PeerEnv`) and sends the
//! result.

pub mod pack;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::packet::attribute::RawAttribute;
use super::packet::iana;
use super::packet::{Afi, AsSegment, Attributes, Ctx, LargeCommunity, Origin, Update};
use pack::{pack_announcements, pack_withdrawals};
pub use table::Table;

/// How one prefix should be announced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Advert {
    /// Next hop; `None` means the session's local address.
    pub next_hop: Option<IpAddr>,
    /// Sent on iBGP sessions only; iBGP defaults to 100 (FRR drops iBGP routes without it).
    pub local_pref: Option<u32>,
    pub communities: Vec<u32>,
    pub large_communities: Vec<LargeCommunity>,
}

/// The desired routes for one peer.
pub type Routes = BTreeMap<IpNet, Advert>;

/// How announcements are split into UPDATEs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Packing {
    /// Prefixes sharing attributes share UPDATEs, filled up to 4096 bytes.
    #[default]
    Packed,
    /// One prefix per UPDATE, as MetalLB's native speaker does (for comparison).
    OnePerUpdate,
}

/// What the session negotiated that route encoding depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerEnv {
    pub local_as: u32,
    pub peer_as: u32,
    pub ctx: Ctx,
    /// Our end of the TCP connection: the default next hop.
    pub local_addr: IpAddr,
    pub ipv4: bool,
    pub ipv6: bool,
}

/// Encoded form of one advert: attributes and, for IPv6, the MP next hop.
type Resolved = (Attributes, Option<IpAddr>);

/// What was sent to one peer, to diff against.
#[derive(Debug, Default)]
pub struct AdjRibOut {
    /// Prefixes with equal attributes share one copy (see `intern`).
    sent: BTreeMap<IpNet, Arc<Resolved>>,
    /// The attributes last stored in `sent`: a speaker's routes nearly all carry the same.
    shared: Option<Arc<Resolved>>,
    /// The session of the last sync of either kind.
    last_env: Option<PeerEnv>,
    /// The [`Table`] version of the last `sync_table`.
    table_version: Option<u64>,
    pub packing: Packing,
}

impl AdjRibOut {
    pub fn new(packing: Packing) -> Self {
        AdjRibOut {
            sent: BTreeMap::new(),
            shared: None,
            last_env: None,
            table_version: None,
            packing,
        }
    }

    /// Number of prefixes currently advertised.
    pub fn len(&self) -> usize {
        self.sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }

    /// After (re)connecting: the full table followed by End-of-RIB for each family.
    #[cfg(test)]
    pub fn resync(&mut self, desired: &Routes, env: &PeerEnv) -> Vec<Update> {
        self.resync_table(&Table::new(desired.clone()), env)
    }

    /// UPDATEs that turn what the peer holds into `desired`, withdrawals first, comparing
    /// the whole table with what was sent (sessions use `sync_table`, which looks only at
    /// what changed).
    #[cfg(test)]
    pub fn sync(&mut self, desired: &Routes, env: &PeerEnv) -> Vec<Update> {
        self.sync_changed(desired, None, env)
    }

    /// `sync` when only the prefixes in `changed` can differ from the table of the previous
    /// sync (`None`: not known, compare everything): costs the size of the change. `desired`
    /// is not kept, so its owner may change it in place (see [`Table`]).
    fn sync_changed(
        &mut self,
        desired: &Routes,
        changed: Option<&BTreeSet<IpNet>>,
        env: &PeerEnv,
    ) -> Vec<Update> {
        let changed: Vec<(IpNet, Option<&Advert>)> = match changed {
            Some(set) if self.last_env.as_ref() == Some(env) => {
                set.iter().map(|p| (*p, desired.get(p))).collect()
            }
            _ => self.everything(desired),
        };
        let out = self.send(changed, env);
        self.last_env = Some(*env);
        out
    }

    /// `sync` to a [`Table`]: only the prefixes changed since the version of the last
    /// `sync_table` are looked at, when the table still knows them.
    pub fn sync_table(&mut self, table: &Table, env: &PeerEnv) -> Vec<Update> {
        let changed = self.changes_in(table, env);
        self.sync_table_changes(table, changed, env)
    }

    /// The prefixes of `table` changed since the last `sync_table` to the same session, or
    /// `None` when they are not known (the next sync compares the whole table).
    pub fn changes_in(&self, table: &Table, env: &PeerEnv) -> Option<BTreeSet<IpNet>> {
        if self.last_env.as_ref() != Some(env) {
            return None;
        }
        self.table_version.and_then(|v| table.changed_since(v))
    }

    /// `sync_table` with the changes [`AdjRibOut::changes_in`] gave for `table`, so a caller
    /// that needed them first (to decide whether to copy the table) does not compute them
    /// twice.
    pub fn sync_table_changes(
        &mut self,
        table: &Table,
        changed: Option<BTreeSet<IpNet>>,
        env: &PeerEnv,
    ) -> Vec<Update> {
        let out = self.sync_changed(table.routes(), changed.as_ref(), env);
        self.table_version = Some(table.version());
        out
    }

    /// Withdraw everything sent (the session is closing).
    pub fn withdraw_all(&mut self, env: &PeerEnv) -> Vec<Update> {
        let out = self.sync_changed(&Routes::new(), None, env);
        self.table_version = None;
        out
    }

    /// `resync` to a [`Table`].
    pub fn resync_table(&mut self, table: &Table, env: &PeerEnv) -> Vec<Update> {
        self.sent.clear();
        self.last_env = None;
        self.table_version = None;
        let out = self.sync_table(table, env);
        self.end_of_rib(out, env)
    }

    fn end_of_rib(&self, mut out: Vec<Update>, env: &PeerEnv) -> Vec<Update> {
        if env.ipv4 {
            out.push(Update::end_of_rib(Afi::Ipv4));
        }
        if env.ipv6 {
            out.push(Update::end_of_rib(Afi::Ipv6));
        }
        out
    }

    /// Every prefix sent or desired: the ones no longer desired, then the desired ones in
    /// prefix order.
    fn everything<'a>(&self, desired: &'a Routes) -> Vec<(IpNet, Option<&'a Advert>)> {
        self.sent
            .keys()
            .filter(|p| !desired.contains_key(*p))
            .map(|p| (*p, None))
            .chain(desired.iter().map(|(p, a)| (*p, Some(a))))
            .collect()
    }

    /// Resolve the prefixes that may have changed, compare them with what was sent and pack
    /// the difference.
    fn send(&mut self, changed: Vec<(IpNet, Option<&Advert>)>, env: &PeerEnv) -> Vec<Update> {
        let mut gone: Vec<IpNet> = Vec::new();
        let mut announce: Vec<(IpNet, Resolved)> = Vec::new();
        for (p, advert) in changed {
            match advert.and_then(|a| resolve(&p, a, env)) {
                Some(r) if self.sent.get(&p).map(|s| &**s) != Some(&r) => announce.push((p, r)),
                Some(_) => {}
                None if self.sent.contains_key(&p) => gone.push(p),
                None => {}
            }
        }
        gone.sort();
        for p in &gone {
            self.sent.remove(p);
        }
        let mut groups: BTreeMap<&Resolved, Vec<IpNet>> = BTreeMap::new();
        for (p, r) in &announce {
            groups.entry(r).or_default().push(*p);
        }
        let max = match self.packing {
            Packing::Packed => None,
            Packing::OnePerUpdate => Some(1),
        };
        let mut out = pack_withdrawals(&gone, max);
        for (resolved, prefixes) in groups {
            let (attrs, v6_nh) = resolved;
            let nhs: Vec<IpAddr> = v6_nh.iter().copied().collect();
            out.extend(pack_announcements(attrs, &prefixes, &nhs, &env.ctx, max));
            let shared = self.intern(resolved);
            for p in prefixes {
                self.sent.insert(p, shared.clone());
            }
        }
        out
    }

    /// One shared copy of `r`: the last one stored if equal, else a new one.
    fn intern(&mut self, r: &Resolved) -> Arc<Resolved> {
        match &self.shared {
            Some(s) if **s == *r => s.clone(),
            _ => {
                let s = Arc::new(r.clone());
                self.shared = Some(s.clone());
                s
            }
        }
    }
}

/// The prefixes whose advert differs between `old` and `new` (`None`: no longer wanted), in
/// prefix order: one merge walk over both tables.
fn changed_prefixes<'a>(old: &Routes, new: &'a Routes) -> Vec<(IpNet, Option<&'a Advert>)> {
    let mut out = Vec::new();
    let (mut a, mut b) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((pa, _)), None) => {
                out.push((**pa, None));
                a.next();
            }
            (None, Some((pb, ab))) => {
                out.push((**pb, Some(*ab)));
                b.next();
            }
            (Some((pa, aa)), Some((pb, ab))) => match pa.cmp(pb) {
                std::cmp::Ordering::Less => {
                    out.push((**pa, None));
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push((**pb, Some(*ab)));
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if aa != ab {
                        out.push((**pb, Some(*ab)));
                    }
                    a.next();
                    b.next();
                }
            },
        }
    }
    out
}

/// Builds the attributes for one prefix, or `None` if the session cannot carry it.
fn resolve(prefix: &IpNet, a: &Advert, env: &PeerEnv) -> Option<Resolved> {
    let ibgp = env.local_as == env.peer_as;
    let mut communities = a.communities.clone();
    communities.sort_unstable();
    communities.dedup();
    let mut attrs = Attributes {
        origin: Some(Origin::Incomplete),
        // iBGP: a present but empty AS_PATH; eBGP: our AS once (RFC 4271 §5.1.2).
        as_path: Some(if ibgp {
            vec![]
        } else {
            vec![AsSegment::Sequence(vec![env.local_as])]
        }),
        local_pref: ibgp.then(|| a.local_pref.unwrap_or(100)),
        communities,
        large_communities: a.large_communities.clone(),
        other: as4_path(ibgp, env),
        ..Default::default()
    };
    match prefix {
        IpNet::V4(_) if env.ipv4 => {
            // An IPv6 advert next hop cannot be an IPv4 NEXT_HOP: fall back to our address.
            let IpAddr::V4(v4) = a.next_hop.filter(IpAddr::is_ipv4).unwrap_or(env.local_addr)
            else {
                return None;
            };
            attrs.next_hop = Some(v4);
            Some((attrs, None))
        }
        IpNet::V6(_) if env.ipv6 => {
            let v6 = match a.next_hop.unwrap_or(env.local_addr) {
                IpAddr::V6(v6) => v6,
                // Without RFC 8950, an IPv4 next hop travels as an IPv4-mapped IPv6 address.
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            };
            Some((attrs, Some(IpAddr::V6(v6))))
        }
        _ => None,
    }
}

/// RFC 6793 §4.2.2: towards a 2-octet-only peer, a 4-octet local AS travels as AS_TRANS in
/// AS_PATH, with the real AS in AS4_PATH.
fn as4_path(ibgp: bool, env: &PeerEnv) -> Vec<RawAttribute> {
    if ibgp || env.ctx.four_octet_as || env.local_as <= u32::from(u16::MAX) {
        return Vec::new();
    }
    let mut value = vec![iana::segment::AS_SEQUENCE, 1];
    value.extend_from_slice(&env.local_as.to_be_bytes());
    vec![RawAttribute {
        flags: iana::flag::OPTIONAL | iana::flag::TRANSITIVE,
        type_code: iana::attr::AS4_PATH,
        value,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::packet::{Message, MpReach};

    fn env(local_as: u32, peer_as: u32) -> PeerEnv {
        PeerEnv {
            local_as,
            peer_as,
            ctx: Ctx {
                four_octet_as: true,
            },
            local_addr: "127.0.1.1".parse().unwrap(),
            ipv4: true,
            ipv6: true,
        }
    }

    fn routes(prefixes: &[&str], advert: &Advert) -> Routes {
        prefixes
            .iter()
            .map(|p| (p.parse().unwrap(), advert.clone()))
            .collect()
    }

    #[test]
    fn ebgp_prepends_local_as_and_omits_local_pref() {
        let mut rib = AdjRibOut::default();
        let ad = Advert {
            local_pref: Some(200),
            communities: vec![7, 3],
            ..Default::default()
        };
        let ups = rib.sync(&routes(&["198.51.100.10/32"], &ad), &env(64500, 64501));
        assert_eq!(ups.len(), 1);
        let a = &ups[0].attrs;
        assert_eq!(a.as_path, Some(vec![AsSegment::Sequence(vec![64500])]));
        assert_eq!(a.local_pref, None);
        assert_eq!(a.origin, Some(Origin::Incomplete));
        assert_eq!(a.next_hop, Some("127.0.1.1".parse().unwrap()));
        assert_eq!(a.communities, vec![3, 7]);
    }

    #[test]
    fn ibgp_empty_as_path_and_default_local_pref() {
        let mut rib = AdjRibOut::default();
        let ups = rib.sync(
            &routes(&["198.51.100.10/32"], &Advert::default()),
            &env(64500, 64500),
        );
        assert_eq!(ups[0].attrs.as_path, Some(vec![]));
        assert_eq!(ups[0].attrs.local_pref, Some(100));
    }

    #[test]
    fn diff_sends_only_changes_and_withdrawals() {
        let mut rib = AdjRibOut::default();
        let e = env(64500, 64501);
        let ad = Advert::default();
        rib.sync(&routes(&["10.0.0.1/32", "10.0.0.2/32"], &ad), &e);
        assert!(rib
            .sync(&routes(&["10.0.0.1/32", "10.0.0.2/32"], &ad), &e)
            .is_empty());
        let ups = rib.sync(&routes(&["10.0.0.2/32", "10.0.0.3/32"], &ad), &e);
        assert_eq!(ups.len(), 2);
        assert_eq!(ups[0].withdrawn, vec!["10.0.0.1/32".parse().unwrap()]);
        assert_eq!(ups[1].nlri, vec!["10.0.0.3/32".parse().unwrap()]);
        assert_eq!(rib.len(), 2);
    }

    #[test]
    fn resync_sends_everything_and_end_of_rib() {
        let mut rib = AdjRibOut::default();
        let e = env(64500, 64501);
        let r = routes(&["10.0.0.1/32", "2001:db8::1/128"], &Advert::default());
        rib.sync(&r, &e);
        let ups = rib.resync(&r, &e);
        assert_eq!(ups.len(), 4);
        let v6 = ups.iter().find_map(|u| u.attrs.mp_reach.as_ref()).unwrap();
        assert_eq!(
            v6,
            &MpReach {
                afi: Afi::Ipv6,
                next_hops: vec!["::ffff:127.0.1.1".parse().unwrap()],
                nlri: vec!["2001:db8::1/128".parse().unwrap()],
            }
        );
        assert_eq!(ups[2].end_of_rib_afi(), Some(Afi::Ipv4));
        assert_eq!(ups[3].end_of_rib_afi(), Some(Afi::Ipv6));
    }

    #[test]
    fn one_per_update_mode() {
        let mut rib = AdjRibOut::new(Packing::OnePerUpdate);
        let r = routes(
            &["10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"],
            &Advert::default(),
        );
        let ups = rib.sync(&r, &env(64500, 64501));
        assert_eq!(ups.len(), 3);
        let packed = AdjRibOut::default().sync(&r, &env(64500, 64501));
        assert_eq!(packed.len(), 1);
        let ctx = Ctx::default();
        assert!(
            Message::Update(packed[0].clone())
                .encode(&ctx)
                .unwrap()
                .len()
                < 60
        );
    }

    #[test]
    fn four_octet_local_as_to_two_octet_peer_adds_as4_path() {
        let mut e = env(4_200_000_001, 64501);
        e.ctx.four_octet_as = false;
        let ups = AdjRibOut::default().sync(&routes(&["10.0.0.1/32"], &Advert::default()), &e);
        let bytes = Message::Update(ups[0].clone()).encode(&e.ctx).unwrap();
        // AS_PATH carries AS_TRANS (23456 = 0x5ba0); AS4_PATH the real AS.
        assert!(bytes.windows(4).any(|w| w == [2, 1, 0x5b, 0xa0]));
        assert_eq!(ups[0].attrs.other[0].type_code, 17);
        assert_eq!(ups[0].attrs.other[0].value, [2, 1, 0xfa, 0x56, 0xea, 0x01]);
    }

    #[test]
    fn ipv6_next_hop_does_not_hide_ipv4_routes() {
        let ad = Advert {
            next_hop: Some("2001:db8::1".parse().unwrap()),
            ..Default::default()
        };
        let ups = AdjRibOut::default().sync(
            &routes(&["10.0.0.1/32", "2001:db8::10/128"], &ad),
            &env(64500, 64501),
        );
        let v4 = ups.iter().find(|u| !u.nlri.is_empty()).unwrap();
        assert_eq!(v4.attrs.next_hop, Some("127.0.1.1".parse().unwrap()));
        let v6 = ups.iter().find_map(|u| u.attrs.mp_reach.as_ref()).unwrap();
        assert_eq!(v6.next_hops, vec!["2001:db8::1".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn families_not_negotiated_are_skipped() {
        let mut e = env(64500, 64501);
        e.ipv6 = false;
        let ups = AdjRibOut::default().sync(&routes(&["2001:db8::1/128"], &Advert::default()), &e);
        assert!(ups.is_empty());
    }

    mod incremental_equals_full {
        use proptest::prelude::*;

        use super::super::*;
        use super::env;

        /// The diff before it was incremental: resolve the whole table, compare with all sent.
        fn full(
            sent: &mut BTreeMap<IpNet, Resolved>,
            desired: &Routes,
            env: &PeerEnv,
        ) -> Vec<Update> {
            let wanted: BTreeMap<IpNet, Resolved> = desired
                .iter()
                .filter_map(|(p, a)| resolve(p, a, env).map(|r| (*p, r)))
                .collect();
            let gone: Vec<IpNet> = sent
                .keys()
                .filter(|p| !wanted.contains_key(p))
                .copied()
                .collect();
            let mut groups: BTreeMap<&Resolved, Vec<IpNet>> = BTreeMap::new();
            for (p, r) in &wanted {
                if sent.get(p) != Some(r) {
                    groups.entry(r).or_default().push(*p);
                }
            }
            let mut out = pack_withdrawals(&gone, None);
            for ((attrs, v6_nh), prefixes) in groups {
                let nhs: Vec<IpAddr> = v6_nh.iter().copied().collect();
                out.extend(pack_announcements(attrs, &prefixes, &nhs, &env.ctx, None));
            }
            *sent = wanted;
            out
        }

        fn unshared(sent: &BTreeMap<IpNet, Arc<Resolved>>) -> BTreeMap<IpNet, Resolved> {
            sent.iter().map(|(p, r)| (*p, (**r).clone())).collect()
        }

        fn table() -> impl Strategy<Value = Routes> {
            let prefixes = [
                "10.0.0.1/32",
                "10.0.0.2/32",
                "10.0.1.0/24",
                "198.51.100.7/32",
                "2001:db8::1/128",
                "2001:db8::/64",
            ];
            proptest::collection::btree_map(
                (0..prefixes.len())
                    .prop_map(move |i| prefixes[i].parse::<IpNet>().unwrap_or_default()),
                (0u32..3, proptest::option::of(0u32..2), any::<bool>()).prop_map(
                    |(c, lp, v6nh)| Advert {
                        next_hop: v6nh.then(|| "2001:db8::ff".parse().ok()).flatten(),
                        local_pref: lp.map(|l| 100 + l),
                        communities: (0..c).collect(),
                        large_communities: Vec::new(),
                    },
                ),
                0..6,
            )
        }

        proptest! {
            #[test]
            fn same_updates_and_table(tables in proptest::collection::vec((table(), 0u8..4), 1..12)) {
                let mut rib = AdjRibOut::default();
                let mut sent = BTreeMap::new();
                // The table as a speaker keeps it: each new set of routes recorded as a change.
                let mut table = Table::new(Routes::new());
                for (t, e) in tables {
                    // Now and then the session is another (a reconnect with other capabilities).
                    let mut env = env(64500, if e == 0 { 64501 } else { 64500 });
                    env.ipv6 = e != 1;
                    table.set(t.clone());
                    let ours = rib.sync_table(&table, &env);
                    let reference = full(&mut sent, &t, &env);
                    prop_assert_eq!(ours, reference);
                    prop_assert_eq!(&unshared(&rib.sent), &sent);
                    // The same table again sends nothing.
                    prop_assert!(rib.sync_table(&table, &env).is_empty());
                }
            }

            /// A table changed in place, synced after some of its versions only (a session
            /// that was busy skips versions), sends what a full comparison sends.
            #[test]
            fn table_syncs_match_a_full_comparison(
                steps in proptest::collection::vec((table(), 0u8..6, any::<bool>()), 1..24)
            ) {
                let mut rib = AdjRibOut::default();
                let mut sent = BTreeMap::new();
                let mut t = Table::new(Routes::new());
                let env = env(64500, 64500);
                prop_assert!(rib.resync_table(&t, &env).iter().all(|u| u.announced().count() == 0));
                for (next, how, sync) in steps {
                    match how {
                        // Now and then the whole table is replaced.
                        0 => { t.replace(next); }
                        _ => {
                            let gone: Vec<IpNet> = t
                                .routes()
                                .keys()
                                .filter(|p| !next.contains_key(*p))
                                .copied()
                                .collect();
                            t.update(
                                gone.into_iter()
                                    .map(|p| (p, None))
                                    .chain(next.into_iter().map(|(p, a)| (p, Some(a)))),
                            );
                        }
                    }
                    if sync {
                        let ours = rib.sync_table(&t, &env);
                        let reference = full(&mut sent, t.routes(), &env);
                        prop_assert_eq!(ours, reference);
                        prop_assert_eq!(&unshared(&rib.sent), &sent);
                        prop_assert!(rib.sync_table(&t, &env).is_empty());
                        prop_assert!(rib.changes_in(&t, &env).is_some());
                    }
                }
                let ours = rib.withdraw_all(&env);
                prop_assert_eq!(ours, full(&mut sent, &Routes::new(), &env));
                prop_assert!(rib.is_empty());
            }
        }
    }
    #[test]
    fn equal_attributes_are_stored_once() {
        let mut rib = AdjRibOut::default();
        let ad = Advert::default();
        let e = env(64500, 64501);
        rib.sync(&routes(&["10.0.0.1/32"], &ad), &e);
        rib.sync(&routes(&["10.0.0.1/32", "10.0.0.2/32"], &ad), &e);
        let stored: Vec<&Arc<Resolved>> = rib.sent.values().collect();
        assert_eq!(stored.len(), 2);
        assert!(Arc::ptr_eq(stored[0], stored[1]));
    }
}
