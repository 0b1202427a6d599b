//! A route table shared by a route source (the speaker) and its sessions, changed in place: a
//! version number, and the prefixes each of the last few versions changed. A session that has
//! synced one of those versions looks at only the prefixes changed since, so handing a change
//! to the sessions costs the size of the change, not of the table. Pure: no channels, no
//! clocks; the owner keeps it in a watch channel.

use std::collections::{BTreeSet, VecDeque};

use ipnet::IpNet;

use super::{Advert, Routes};

/// The most versions whose changed prefixes are kept.
const KEPT_VERSIONS: usize = 64;

/// A versioned route table with its recent changes.
#[derive(Debug, Default, Clone)]
pub struct Table {
    routes: Routes,
    version: u64,
    /// `(v, prefixes changed from v - 1 to v)`, oldest first.
    deltas: VecDeque<(u64, Vec<IpNet>)>,
    /// Prefixes held in `deltas`, to keep them smaller than the table.
    kept: usize,
}

impl Table {
    /// A table holding `routes`, at version 1.
    pub fn new(routes: Routes) -> Table {
        Table {
            routes,
            version: 1,
            deltas: VecDeque::new(),
            kept: 0,
        }
    }

    /// The routes.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// The version: it grows by one with every change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Replace every route; sessions then compare the whole table. Returns whether anything
    /// changed.
    pub fn replace(&mut self, routes: Routes) -> bool {
        if routes == self.routes {
            return false;
        }
        self.routes = routes;
        self.version += 1;
        self.deltas.clear();
        self.kept = 0;
        true
    }

    /// Make the table `routes`, recording which prefixes changed (one walk over both
    /// tables). Returns whether anything changed.
    pub fn set(&mut self, routes: Routes) -> bool {
        let changes: Vec<(IpNet, Option<Advert>)> = super::changed_prefixes(&self.routes, &routes)
            .into_iter()
            .map(|(p, a)| (p, a.cloned()))
            .collect();
        self.update(changes)
    }

    /// Set (`Some`) or remove (`None`) the given prefixes. A new version if anything changed;
    /// returns whether it did.
    pub fn update(&mut self, changes: impl IntoIterator<Item = (IpNet, Option<Advert>)>) -> bool {
        let mut changed = Vec::new();
        for (p, advert) in changes {
            let differs = match advert {
                Some(a) => {
                    if self.routes.get(&p) == Some(&a) {
                        false
                    } else {
                        self.routes.insert(p, a);
                        true
                    }
                }
                None => self.routes.remove(&p).is_some(),
            };
            if differs {
                changed.push(p);
            }
        }
        if changed.is_empty() {
            return false;
        }
        self.version += 1;
        self.kept += changed.len();
        self.deltas.push_back((self.version, changed));
        // Changes worth more than the table itself are no cheaper than a full comparison.
        while self.deltas.len() > KEPT_VERSIONS || self.kept > self.routes.len().max(1024) {
            match self.deltas.pop_front() {
                Some((_, d)) => self.kept -= d.len(),
                None => break,
            }
        }
        true
    }

    /// The prefixes changed after version `since`, in prefix order; `None` when they are no
    /// longer known (the table was replaced, or `since` is older than the changes kept), so
    /// the whole table has to be compared.
    pub fn changed_since(&self, since: u64) -> Option<BTreeSet<IpNet>> {
        if since == self.version {
            return Some(BTreeSet::new());
        }
        if since > self.version {
            return None;
        }
        // Every version after `since` must still be kept.
        let first = self.deltas.front()?.0;
        if first > since + 1 {
            return None;
        }
        Some(
            self.deltas
                .iter()
                .filter(|(v, _)| *v > since)
                .flat_map(|(_, d)| d.iter().copied())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn since(t: &Table, v: u64) -> Option<Vec<IpNet>> {
        t.changed_since(v).map(|s| s.into_iter().collect())
    }

    #[test]
    fn changes_are_known_while_kept() {
        let mut t = Table::new(Routes::new());
        assert_eq!(t.version(), 1);
        assert!(t.update([(p("10.0.0.1/32"), Some(Advert::default()))]));
        assert!(
            !t.update([(p("10.0.0.1/32"), Some(Advert::default()))]),
            "no change"
        );
        assert!(t.update([(p("10.0.0.2/32"), Some(Advert::default()))]));
        assert!(t.update([(p("10.0.0.1/32"), None)]));
        assert_eq!(t.version(), 4);
        assert_eq!(since(&t, 4), Some(vec![]));
        assert_eq!(since(&t, 3), Some(vec![p("10.0.0.1/32")]));
        assert_eq!(since(&t, 1), Some(vec![p("10.0.0.1/32"), p("10.0.0.2/32")]));
        assert_eq!(since(&t, 0), None, "before the first change kept");
        assert_eq!(since(&t, 9), None, "a version this table never had");
        let two: Routes = [
            (p("10.0.0.2/32"), Advert::default()),
            (p("10.0.0.3/32"), Advert::default()),
        ]
        .into();
        assert!(t.set(two.clone()));
        assert!(!t.set(two.clone()), "the same table is no change");
        assert_eq!(since(&t, 4), Some(vec![p("10.0.0.3/32")]));
        assert_eq!(t.routes(), &two);
        assert!(t.replace(Routes::new()));
        assert_eq!(since(&t, 5), None, "a replaced table is compared whole");
        assert_eq!(since(&t, 6), Some(vec![]));
    }

    #[test]
    fn old_changes_are_dropped() {
        let mut t = Table::new(Routes::new());
        for i in 0..(KEPT_VERSIONS + 10) {
            let [a, b] = u16::try_from(i).unwrap().to_be_bytes();
            let net = IpNet::from(ipnet::Ipv4Net::from(std::net::Ipv4Addr::new(10, 0, a, b)));
            t.update([(net, Some(Advert::default()))]);
        }
        let v = t.version();
        assert!(t.changed_since(v - KEPT_VERSIONS as u64).is_some());
        assert!(t.changed_since(v - KEPT_VERSIONS as u64 - 1).is_none());
    }
}
