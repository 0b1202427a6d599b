//! The `metallbctl` binary: parse the command line and hand over to `cli`. Nothing else.

fn main() -> std::process::ExitCode {
    metallbctl::cli::main()
}
