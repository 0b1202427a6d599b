//! `metallbctl bgp listen` and `metallbctl bgp announce` as processes: the listener prints the
//! announced routes as JSON, and the announcer withdraws them when interrupted.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{free_port, metallbctl, Proc};

/// `metallbctl ARGS` in the background, stdout piped.
fn spawn(args: &[&str]) -> Proc {
    Proc::spawn(metallbctl().args(args), Stdio::piped())
}

/// Reads stdout lines on a thread so the test can wait with a timeout.
fn lines(p: &mut Proc) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = p.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_line(rx: &mpsc::Receiver<String>, what: &str, f: impl Fn(&serde_json::Value) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                if serde_json::from_str(&l).is_ok_and(|v| f(&v)) {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no output line showing {what}");
}

#[test]
fn listen_shows_what_announce_sends_and_the_withdrawal_on_sigint() {
    let addr = format!("127.0.0.58:{}", free_port("127.0.0.58"));
    let mut listen = spawn(&[
        "bgp",
        "listen",
        "--listen",
        &addr,
        "--as",
        "64512",
        "--peer",
        "127.0.1.8",
        "--peer-as",
        "64500",
        "--hold-time",
        "9",
        "-o",
        "json",
    ]);
    let rx = lines(&mut listen);
    wait_line(&rx, "the idle neighbour", |v| {
        v["peers"][0]["peer"] == "127.0.1.8"
    });
    let ann = spawn(&[
        "bgp",
        "announce",
        "--peer",
        &addr,
        "--as",
        "64500",
        "--peer-as",
        "64512",
        "--source",
        "127.0.1.8",
        "--next-hop",
        "192.0.2.7",
        "198.51.100.70",
        "--community",
        "64500:70",
    ]);
    wait_line(&rx, "the announced route", |v| {
        let r = &v["peers"][0]["routes"][0];
        r["prefix"] == "198.51.100.70/32"
            && r["next_hop"] == "192.0.2.7"
            && r["communities"][0] == "64500:70"
    });
    // SAFETY: kill(2) on our own child's PID.
    unsafe {
        libc::kill(ann.0.id() as i32, libc::SIGINT);
    }
    wait_line(&rx, "the withdrawal", |v| {
        v["peers"][0]["routes"]
            .as_array()
            .is_some_and(Vec::is_empty)
            && v["peers"][0]["state"] != "established"
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_table_matches_its_snapshot() {
    use crate::support::{mask_columns, redact, Pipe, Streaming};
    let wait = Duration::from_secs(20);
    let port = free_port("127.0.0.59");
    let addr = format!("127.0.0.59:{port}");
    let mut listen = Streaming::spawn(metallbctl().args([
        "bgp",
        "listen",
        "--listen",
        &addr,
        "--as",
        "64512",
        "--peer",
        "127.0.1.9",
        "--peer-as",
        "64500",
    ]));
    listen
        .wait_line("the idle neighbour", wait, |p, l| {
            p == Pipe::Stdout && l.starts_with("127.0.1.9")
        })
        .await;
    let _announce = spawn(&[
        "bgp",
        "announce",
        "--peer",
        &addr,
        "--as",
        "64500",
        "--peer-as",
        "64512",
        "--source",
        "127.0.1.9",
        "--next-hop",
        "192.0.2.9",
        "198.51.100.71",
        "--community",
        "64500:71",
    ]);
    listen
        .wait_line("the announced route", wait, |p, l| {
            p == Pipe::Stdout && l.contains("198.51.100.71/32")
        })
        .await;
    // The last frame: the sessions table, a blank line, the routes table. Uptime is a clock;
    // the message counters depend on whether End-of-RIB arrived before this frame was printed.
    let lines = listen.stdout();
    let start = lines
        .iter()
        .rposition(|l| l.starts_with("PEER") && l.contains("STATE"))
        .expect("a sessions header");
    let frame = lines[start..].join("\n");
    let (sessions, routes) = frame.split_once("\n\n").expect("two tables");
    let text = format!(
        "{}\n{}",
        mask_columns(sessions, &["UPTIME", "MSGS-RX", "MSGS-TX"]),
        mask_columns(routes, &[])
    );
    crate::support::snapshot("bgp_listen_table", &redact(&text, &[(&addr, "<listen>")]));
}
