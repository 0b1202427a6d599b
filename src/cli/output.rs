//! Writing to stdout and stderr at the edge: a closed pipe (`metallbctl … | head`) is not an
//! error.

use std::io::{self, Write};

/// Write all of `text` to stdout.
pub fn stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// An error for a person, in one style across commands (as cargo and ripgrep print them):
///
/// ```text
/// error: what failed, naming the object, file or address
///   caused by: why (each reason once)
/// help: what to do next
/// ```
///
/// Causes already said by an earlier line of the chain (kube and hyper repeat their inner
/// error in their own message) are left out.
pub fn error_report(e: &anyhow::Error) -> String {
    let mut lines = vec![format!("error: {e}")];
    let mut said: Vec<String> = vec![e.to_string()];
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || said.iter().any(|s| s.contains(text)) {
            continue;
        }
        lines.push(format!("  caused by: {text}"));
        said.push(text.to_string());
    }
    if let Some(help) = help(e) {
        lines.push(format!("help: {help}"));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The first help any error of the chain offers.
fn help(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| {
        if let Some(k) = c.downcast_ref::<crate::kube::KubeError>() {
            k.help()
        } else if let Some(i) = c.downcast_ref::<crate::kube::install::InstallError>() {
            i.help()
        } else if let Some(crate::kube::live::LiveError::Cluster(k)) = c.downcast_ref() {
            k.help()
        } else if let Some(a) = c.downcast_ref::<super::bgp::AnnounceError>() {
            a.help()
        } else if let Some(l) = c.downcast_ref::<crate::lab::control::ControlError>() {
            l.help()
        } else {
            None
        }
    })
}

/// Print [`error_report`] on stderr.
pub fn print_error(e: &anyhow::Error) {
    eprint!("{}", error_report(e));
}

/// `println!` that does not panic when stdout is a closed pipe (`metallbctl lab up | head`):
/// what is left to say is dropped, the command itself goes on.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` with [`outln!`]'s behaviour on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub(crate) use {out, outln};
