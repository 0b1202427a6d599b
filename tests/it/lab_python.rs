//! A second real client besides kubectl: the official Python `kubernetes` package (installed by
//! `.ci/run` into `target/py-venv`, or the venv named by `METALLBCTL_PY_VENV`) runs
//! `tests/python/client_crud.py` against the in-process lab API server: CRUD on ConfigMaps,
//! Services and Deployments, deletes (a `V1Status`), a paged list and a watch, all decoded into
//! its typed models. Skipped with a message when the package is missing, unless
//! METALLBCTL_REQUIRE_PEERS=1.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{repo_path, require, Lab};

/// The venv's python, if it has the `kubernetes` package (gated like kubectl).
fn python_with_client() -> Option<PathBuf> {
    let venv = std::env::var_os("METALLBCTL_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("target/py-venv"));
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import kubernetes"])
        .output()
        .is_ok_and(|o| o.status.success());
    require(
        "the Python kubernetes client",
        ok,
        &format!(
            "python3 -m venv {0} && {0}/bin/pip install kubernetes (.ci/run does this)",
            venv.display()
        ),
    )
    .then_some(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_crud_paging_watch() {
    let Some(python) = python_with_client() else {
        return;
    };
    let lab = Lab::start("fid-python").await;
    let script = repo_path("tests/python/client_crud.py");
    let kubeconfig = lab.kubeconfig();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(kubeconfig)
            .output()
            .expect("run python")
    })
    .await
    .expect("python task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "python client failed:\n{stdout}\n{stderr}"
    );
    lab.shutdown().await;
}
