//! The command-line tools of the lab's routers, for `kubectl exec`: `birdc` for BIRD
//! containers and `vtysh` for FRR ones. A real router (`--routers real`) runs the real tool
//! against its control socket; a built-in router answers a small built-in command set here,
//! printing the same information in the same layout as BIRD 2 and FRR do. Pure: a snapshot in,
//! text out.

use crate::bgp::router::RouterSnapshot;
use crate::bgp::status::PeerSnapshot;

/// What a command wrote and its exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

fn proto_name(i: usize) -> String {
    format!("node{}", i + 1)
}

/// The BIRD commands a built-in router answers.
pub const BIRDC_COMMANDS: &[&str] = &[
    "show status",
    "show protocols",
    "show protocols all",
    "show route",
    "show route all",
];

/// The vtysh commands a built-in router answers.
pub const VTYSH_COMMANDS: &[&str] = &[
    "show ip bgp",
    "show bgp ipv4 unicast",
    "show ip bgp summary",
    "show bgp summary",
];

/// `birdc <command...>` against a built-in router.
pub fn birdc(snap: &RouterSnapshot, args: &[String]) -> Output {
    let cmd = args.join(" ");
    let mut out = String::from("BIRD 2.15 ready.\n");
    match cmd.trim() {
        "show status" | "" => {
            out.push_str(&format!(
                "BIRD 2.15\nRouter ID is {}\nDaemon is up and running\n",
                snap.router_id
            ));
        }
        "show protocols" | "show protocols all" => {
            out.push_str("Name       Proto      Table      State  Since         Info\n");
            for (i, p) in snap.peers.iter().enumerate() {
                let up = p.state.as_str() == "Established";
                out.push_str(&format!(
                    "{:<10} BGP        ---        {:<6} {:<13} {}\n",
                    proto_name(i),
                    if up { "up" } else { "start" },
                    hms(p.uptime_secs.unwrap_or(0)),
                    p.state.as_str()
                ));
                if cmd.trim() == "show protocols all" {
                    out.push_str(&format!(
                        "  BGP state:          {}\n    Neighbor address: {}\n    Neighbor AS:      {}\n    Local AS:         {}\n",
                        p.state.as_str(), p.peer, p.peer_as, p.local_as
                    ));
                    if let Some(e) = &p.last_error {
                        out.push_str(&format!("    Last error:       {e}\n"));
                    }
                    out.push_str(&format!(
                        "  Channel ipv4\n    Routes:         {} imported, 0 exported\n",
                        p.routes.len()
                    ));
                }
            }
        }
        "show route" | "show route all" => {
            out.push_str("Table master4:\n");
            for (i, p) in snap.peers.iter().enumerate() {
                for r in &p.routes {
                    out.push_str(&format!(
                        "{:<24} unicast [{} {}] * (100) [{}]\n\tvia {} on lo\n",
                        r.prefix,
                        proto_name(i),
                        hms(r.age_secs),
                        origin_code_bird(p, r.origin),
                        r.next_hop.as_deref().unwrap_or("?")
                    ));
                    if cmd.trim() == "show route all" {
                        out.push_str(&format!(
                            "\tType: BGP univ\n\tBGP.origin: {}\n\tBGP.as_path: {}\n\tBGP.next_hop: {}\n",
                            r.origin.unwrap_or("IGP"),
                            r.as_path,
                            r.next_hop.as_deref().unwrap_or("?")
                        ));
                        if let Some(lp) = r.local_pref {
                            out.push_str(&format!("\tBGP.local_pref: {lp}\n"));
                        }
                        if !r.communities.is_empty() {
                            out.push_str(&format!(
                                "\tBGP.community: {}\n",
                                r.communities
                                    .iter()
                                    .map(|c| format!("({})", c.replace(':', ",")))
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            ));
                        }
                    }
                }
            }
        }
        other => {
            return Output {
                stdout: out,
                stderr: format!(
                    "syntax error: the lab's built-in BIRD answers only: {} (not {other:?})\n",
                    BIRDC_COMMANDS.join(", ")
                ),
                exit_code: 1,
            }
        }
    }
    Output {
        stdout: out,
        ..Output::default()
    }
}

fn origin_code_bird(p: &PeerSnapshot, origin: Option<&str>) -> String {
    let code = match origin {
        Some("EGP") => "e",
        Some("INCOMPLETE") | Some("incomplete") => "?",
        _ => "i",
    };
    if p.peer_as == p.local_as {
        code.to_string()
    } else {
        format!("AS{}{code}", p.peer_as)
    }
}

fn show_ip_bgp(snap: &RouterSnapshot) -> String {
    let mut out = format!(
        "BGP table version is 1, local router ID is {}, vrf id 0\nDefault local pref 100, local AS {}\n",
        snap.router_id, snap.local_as
    );
    out.push_str("Status codes:  s suppressed, d damped, h history, * valid, > best, = multipath,\n               i internal, r RIB-failure, S Stale, R Removed\nNexthop codes: @NNN nexthop's vrf id, < announce-nh-self\nOrigin codes:  i - IGP, e - EGP, ? - incomplete\nRPKI validation codes: V valid, I invalid, N Not found\n\n");
    out.push_str("   Network          Next Hop            Metric LocPrf Weight Path\n");
    let mut n = 0;
    for p in &snap.peers {
        for r in &p.routes {
            n += 1;
            let internal = if p.peer_as == snap.local_as { "i" } else { " " };
            let origin = match r.origin {
                Some("EGP") => "e",
                Some("INCOMPLETE") | Some("incomplete") => "?",
                _ => "i",
            };
            let path = if r.as_path.is_empty() {
                origin.to_string()
            } else {
                format!("{} {origin}", r.as_path)
            };
            out.push_str(&format!(
                "*>{internal}{:<17}{:<20}{:>6}{:>7}{:>7} {path}\n",
                r.prefix,
                r.next_hop.as_deref().unwrap_or("0.0.0.0"),
                r.med.map(|m| m.to_string()).unwrap_or_default(),
                r.local_pref.map(|l| l.to_string()).unwrap_or_default(),
                0
            ));
        }
    }
    if n == 0 {
        return "No BGP prefixes displayed, 0 exist\n".into();
    }
    out.push_str(&format!("\nDisplayed  {n} routes and {n} total paths\n"));
    out
}

fn show_bgp_summary(snap: &RouterSnapshot) -> String {
    let mut out = format!(
        "\nIPv4 Unicast Summary (VRF default):\nBGP router identifier {}, local AS number {} vrf-id 0\nBGP table version 1\n\n",
        snap.router_id, snap.local_as
    );
    out.push_str("Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc\n");
    for p in &snap.peers {
        let state = if p.state.as_str() == "Established" {
            p.routes.len().to_string()
        } else {
            p.state.as_str().to_string()
        };
        out.push_str(&format!(
            "{:<15} 4 {:>10} {:>9} {:>9} {:>8} {:>4} {:>4} {:>8} {:>12} {:>8} N/A\n",
            p.peer,
            p.peer_as,
            p.messages_received.total(),
            p.messages_sent.total(),
            0,
            0,
            0,
            hms(p.uptime_secs.unwrap_or(0)),
            state,
            0
        ));
    }
    out.push_str(&format!(
        "\nTotal number of neighbors {}\n",
        snap.peers.len()
    ));
    out
}

/// `vtysh [-c <command>]...` against a built-in router.
pub fn vtysh(snap: &RouterSnapshot, args: &[String]) -> Output {
    let mut commands = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" | "--command" => commands.extend(it.next().cloned()),
            "-d" | "--daemon" | "--vty_socket" => {
                it.next();
            }
            other => {
                return Output {
                    stderr: format!(
                        "vtysh: the lab's built-in FRR runs one-shot commands only: vtysh -c '<command>' (not {other:?})\n"
                    ),
                    exit_code: 1,
                    ..Output::default()
                }
            }
        }
    }
    let mut out = Output::default();
    if commands.is_empty() {
        out.stderr =
            "vtysh: the lab's built-in FRR has no interactive shell: use vtysh -c '<command>'\n"
                .into();
        out.exit_code = 1;
        return out;
    }
    for c in commands {
        let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
        match c.as_str() {
            "show ip bgp"
            | "show bgp ipv4 unicast"
            | "show bgp ipv4"
            | "show ip bgp ipv4 unicast" => out.stdout.push_str(&show_ip_bgp(snap)),
            "show ip bgp summary" | "show bgp summary" | "show bgp ipv4 unicast summary" => {
                out.stdout.push_str(&show_bgp_summary(snap))
            }
            other => {
                out.stdout.push_str(&format!(
                    "% Unknown command: {other}\n% The lab's built-in FRR answers: {}\n",
                    VTYSH_COMMANDS.join(", ")
                ));
                out.exit_code = 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::status::RouteSnapshot;

    fn snap() -> RouterSnapshot {
        let route = RouteSnapshot {
            prefix: "198.51.100.0/32".into(),
            next_hop: Some("127.0.1.1".into()),
            origin: Some("IGP"),
            as_path: String::new(),
            local_pref: Some(100),
            med: None,
            communities: vec![],
            large_communities: vec![],
            age_secs: 61,
        };
        let peer = PeerSnapshot {
            peer: "127.0.1.1".into(),
            local_as: 64500,
            peer_as: 64500,
            state: crate::bgp::session::State::Established,
            uptime_secs: Some(61),
            established_unix: None,
            hold_time: Some(90),
            keepalive: Some(30),
            peer_id: None,
            local_capabilities: vec![],
            peer_capabilities: vec![],
            messages_sent: Default::default(),
            messages_received: Default::default(),
            last_error: None,
            update_errors: Default::default(),
            established_count: 1,
            advertised: 0,
            prefixes_announced: 1,
            prefixes_withdrawn: 0,
            bytes_sent: 0,
            bytes_received: 0,
            routes: vec![route],
        };
        RouterSnapshot {
            listen: "127.0.0.100:1790".into(),
            local_as: 64500,
            router_id: "10.96.0.100".into(),
            peers: vec![peer],
        }
    }

    #[test]
    fn birdc_prints_routes_and_protocols() {
        let s = snap();
        let out = birdc(&s, &["show".into(), "route".into()]);
        assert_eq!(out.exit_code, 0);
        assert!(out.stdout.contains("198.51.100.0/32"), "{}", out.stdout);
        assert!(out.stdout.contains("via 127.0.1.1"), "{}", out.stdout);
        let out = birdc(&s, &["show".into(), "protocols".into()]);
        assert!(out.stdout.contains("node1") && out.stdout.contains("Established"));
        assert_eq!(birdc(&s, &["configure".into()]).exit_code, 1);
    }

    #[test]
    fn vtysh_prints_the_bgp_table() {
        let s = snap();
        let out = vtysh(&s, &["-c".into(), "show ip bgp".into()]);
        assert_eq!(out.exit_code, 0, "{out:?}");
        assert!(
            out.stdout
                .contains("\n*>i198.51.100.0/32  127.0.1.1                     100      0 i\n"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("Displayed  1 routes"), "{}", out.stdout);
        let out = vtysh(&s, &["-c".into(), "show bgp summary".into()]);
        assert!(out.stdout.contains("127.0.1.1"), "{}", out.stdout);
        assert_eq!(vtysh(&s, &[]).exit_code, 1);
    }
}
