//! The kubeconfig the server writes for itself: one cluster, user and context named
//! `metallbctl-lab`, with the bearer token and the lab CA; mode 0600.

use std::path::Path;

use serde_json::json;

use super::persistence::{write_atomic, PersistError};

/// The context, cluster and user name in the kubeconfig.
pub const CONTEXT: &str = "metallbctl-lab";

/// The kubeconfig text for a server URL and token.
pub fn render(server: &str, token: &str, ca_pem: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"}}],
        "current-context": CONTEXT,
        "preferences": {},
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}

/// Write the kubeconfig (mode 0600, atomically).
pub fn write(path: &Path, server: &str, token: &str, ca_pem: &str) -> Result<(), PersistError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| PersistError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    write_atomic(path, render(server, token, ca_pem).as_bytes(), 0o600)
}
