//! Running a router's command-line client (birdc, vtysh, gobgp) with a deadline: the child is
//! killed by PID when it overruns, so a hung daemon never hangs a poll.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `program args`, return its stdout; an error names the program and says why (not found,
/// exit status with stderr, timed out).
pub async fn run(program: &str, args: Vec<String>, timeout: Duration) -> Result<String, String> {
    let program = program.to_string();
    tokio::task::spawn_blocking(move || run_blocking(&program, &args, timeout))
        .await
        .map_err(|e| format!("{e}"))?
}

fn run_blocking(program: &str, args: &[String], timeout: Duration) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{program} is not installed"),
            _ => format!("cannot run {program}: {e}"),
        })?;
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not answer within {}s",
                    timeout.as_secs_f32()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("{program}: {e}")),
        }
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    if status.success() {
        Ok(stdout)
    } else {
        let why = stderr
            .lines()
            .chain(stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output")
            .to_string();
        Err(format!("{program} failed ({status}): {why}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_programs_and_timeouts_are_errors() {
        let e = run("/nonexistent/birdc", vec![], Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(e.contains("is not installed"), "{e}");
        let e = run("sleep", vec!["5".into()], Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(e.contains("did not answer"), "{e}");
        let e = run(
            "sh",
            vec!["-c".into(), "echo nope >&2; exit 3".into()],
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert!(e.contains("nope"), "{e}");
        let o = run("echo", vec!["hi".into()], Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(o, "hi\n");
    }
}
