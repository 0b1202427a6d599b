//! The Adj-RIB-Out: per-peer desired routes (`Routes` of `Advert`s) diffed against what the
//! peer was sent, and the difference packed into UPDATEs (`pack`). Pure: no sockets, no clocks,
//! no async runtime; the driver feeds it what the session negotiated (`PeerEnv`) and sends the
//! result.

pub mod pack;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::packet::attribute::RawAttribute;
use super::packet::iana;
use super::packet::{Afi, AsSegment, Attributes, Ctx, LargeCommunity, Origin, Update};
use pack::{pack_announcements, pack_withdrawals};

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

/// A route table as a speaker hands it to its sessions: the routes, and what changed in the
/// last few versions, so that a session that has seen a recent version looks only at the
/// prefixes that changed since instead of walking the whole table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub routes: Routes,
    /// `None`: unversioned (diffed in full against whatever the session saw last).
    pub version: Option<u64>,
    /// For each of the last versions up to `version`, ascending and consecutive: the version
    /// and the prefixes whose advert differs from the version before it (shared between the
    /// versions that carry them).
    pub recent: Vec<(u64, Arc<[IpNet]>)>,
}

impl Table {
    /// An unversioned table.
    pub fn new(routes: Routes) -> Self {
        Table {
            routes,
            version: None,
            recent: Vec::new(),
        }
    }

    /// The next version of this table: `routes`, which differ from this one's at most in
    /// `changed`. Keeps the changes of the last `keep` versions.
    pub fn next(&self, routes: Routes, changed: Vec<IpNet>, keep: usize) -> Table {
        let version = self.version.map_or(1, |v| v + 1);
        let mut recent: Vec<(u64, Arc<[IpNet]>)> = if self.version.is_some() {
            let skip = (self.recent.len() + 1).saturating_sub(keep);
            self.recent.iter().skip(skip).cloned().collect()
        } else {
            Vec::new()
        };
        recent.push((version, changed.into()));
        Table {
            routes,
            version: Some(version),
            recent,
        }
    }

    /// The prefixes whose advert may differ between version `from` of this table and this
    /// one (sorted, deduplicated), if the recorded changes reach back that far.
    pub fn changed_since(&self, from: u64) -> Option<Vec<IpNet>> {
        let v = self.version?;
        if from == v {
            return Some(Vec::new());
        }
        if from > v {
            return None;
        }
        // The changes of versions from+1 ..= v, every one of them.
        let first = self.recent.iter().position(|(ver, _)| *ver == from + 1)?;
        let wanted = self.recent.get(first..)?;
        if u64::try_from(wanted.len()).ok() != Some(v - from) {
            return None;
        }
        let mut out: Vec<IpNet> = wanted.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

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
    /// The desired routes of the last `sync` and the session they were resolved for: the next
    /// `sync` resolves and encodes only the prefixes whose advert changed since.
    last: Option<(Arc<Table>, PeerEnv)>,
    pub packing: Packing,
}

impl AdjRibOut {
    pub fn new(packing: Packing) -> Self {
        AdjRibOut {
            sent: BTreeMap::new(),
            shared: None,
            last: None,
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
    pub fn resync(&mut self, desired: &Routes, env: &PeerEnv) -> Vec<Update> {
        self.resync_table(&Arc::new(Table::new(desired.clone())), env)
    }

    /// `resync` of a shared table (kept, not copied, for the next `sync_table`).
    pub fn resync_table(&mut self, desired: &Arc<Table>, env: &PeerEnv) -> Vec<Update> {
        self.sent.clear();
        self.last = None;
        let mut out = self.sync_table(desired, env);
        if env.ipv4 {
            out.push(Update::end_of_rib(Afi::Ipv4));
        }
        if env.ipv6 {
            out.push(Update::end_of_rib(Afi::Ipv6));
        }
        out
    }

    /// UPDATEs that turn what the peer holds into `desired`: withdrawals first. Only the
    /// prefixes whose advert differs from the last `sync` are resolved and compared with what
    /// was sent; the rest of the table costs one comparison each.
    pub fn sync(&mut self, desired: &Routes, env: &PeerEnv) -> Vec<Update> {
        self.sync_table(&Arc::new(Table::new(desired.clone())), env)
    }

    /// `sync` of a shared table, as the session driver holds it: kept for the next diff
    /// without a copy. When `desired` records what changed since the version last synced,
    /// only those prefixes are looked at; otherwise the two tables are walked side by side.
    pub fn sync_table(&mut self, desired: &Arc<Table>, env: &PeerEnv) -> Vec<Update> {
        let changed: Vec<(IpNet, Option<&Advert>)> = match &self.last {
            Some((last, last_env)) if last_env == env && Arc::ptr_eq(last, desired) => Vec::new(),
            Some((last, last_env)) if last_env == env => {
                match last.version.and_then(|v| desired.changed_since(v)) {
                    Some(prefixes) => prefixes
                        .into_iter()
                        .map(|p| (p, desired.routes.get(&p)))
                        .collect(),
                    None => changed_prefixes(&last.routes, &desired.routes),
                }
            }
            _ => {
                let desired = &desired.routes;
                let stale = self.sent.keys().filter(|p| !desired.contains_key(*p));
                stale
                    .map(|p| (*p, None))
                    .chain(desired.iter().map(|(p, a)| (*p, Some(a))))
                    .collect()
            }
        };
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
        self.last = Some((Arc::clone(desired), *env));
        out
    }
}

impl AdjRibOut {
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

        /// The prefixes whose advert differs between two tables (plus, with `extra`, every
        /// prefix of `new`: a change list may say more than what changed).
        fn diff(old: &Routes, new: &Routes, extra: bool) -> Vec<IpNet> {
            let mut out: Vec<IpNet> = old
                .keys()
                .chain(new.keys())
                .filter(|p| extra || old.get(*p) != new.get(*p))
                .copied()
                .collect();
            out.sort();
            out.dedup();
            out
        }

        fn shared(sent: &BTreeMap<IpNet, Arc<Resolved>>) -> BTreeMap<IpNet, Resolved> {
            sent.iter().map(|(p, r)| (*p, (**r).clone())).collect()
        }

        proptest! {
            #[test]
            fn same_updates_and_table(
                tables in proptest::collection::vec((table(), 0u8..4, any::<bool>(), any::<bool>()), 1..16),
                versioned in any::<bool>(),
            ) {
                let mut rib = AdjRibOut::default();
                let mut sent = BTreeMap::new();
                let mut chain = Arc::new(Table::default());
                for (t, e, seen, extra) in tables {
                    // Versioned tables record their changes (the last 3 versions); a session
                    // may miss versions (`seen`), and then needs the older changes or a walk.
                    chain = Arc::new(if versioned {
                        chain.next(t.clone(), diff(&chain.routes, &t, extra), 3)
                    } else {
                        Table::new(t.clone())
                    });
                    if !seen {
                        continue;
                    }
                    // Now and then the session is another (a reconnect with other capabilities).
                    let mut env = env(64500, if e == 0 { 64501 } else { 64500 });
                    env.ipv6 = e != 1;
                    let ours = rib.sync_table(&chain, &env);
                    let reference = full(&mut sent, &t, &env);
                    prop_assert_eq!(ours, reference);
                    prop_assert_eq!(&shared(&rib.sent), &sent);
                    // The same table again sends nothing.
                    prop_assert!(rib.sync_table(&chain, &env).is_empty());
                }
            }
        }
    }

    #[test]
    fn table_changes_reach_back_only_as_far_as_kept() {
        let p = |s: &str| s.parse::<IpNet>().unwrap();
        let t1 = Table::default().next(Routes::new(), vec![p("10.0.0.1/32")], 2);
        let t2 = t1.next(Routes::new(), vec![p("10.0.0.2/32")], 2);
        let t3 = t2.next(Routes::new(), vec![p("10.0.0.1/32"), p("10.0.0.3/32")], 2);
        assert_eq!(t3.version, Some(3));
        assert_eq!(t3.changed_since(3), Some(vec![]));
        assert_eq!(
            t3.changed_since(2),
            Some(vec![p("10.0.0.1/32"), p("10.0.0.3/32")])
        );
        assert_eq!(
            t3.changed_since(1),
            Some(vec![p("10.0.0.1/32"), p("10.0.0.2/32"), p("10.0.0.3/32")])
        );
        // Version 1's changes are no longer kept, nor is anything of an unknown future.
        assert_eq!(t3.changed_since(0), None);
        assert_eq!(t3.changed_since(4), None);
        assert_eq!(Table::new(Routes::new()).changed_since(0), None);
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
