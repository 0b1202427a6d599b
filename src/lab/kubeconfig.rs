//! Adding a lab to the user's kubeconfig: the lab's cluster, user and context, renamed
//! `metallbctl-lab-<name>`, replace any entries of that name; `current-context` is set only when
//! the file has none.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// Why the merge failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    #[error("no KUBECONFIG and no HOME: nowhere to merge the kubeconfig")]
    NoTarget,
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the lab kubeconfig {} is not valid YAML", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialise the kubeconfig")]
    Serialise(#[source] serde_yaml::Error),
}

/// The context name of lab `name`.
pub fn context_name(name: &str) -> String {
    format!("metallbctl-lab-{name}")
}

/// The file kubectl reads first: the first entry of `KUBECONFIG`, else `~/.kube/config`.
pub fn default_target() -> Result<PathBuf, KubeconfigError> {
    std::env::var_os("KUBECONFIG")
        .and_then(|v| std::env::split_paths(&v).next())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config")))
        .ok_or(KubeconfigError::NoTarget)
}

/// `theirs` with lab `name`'s cluster, user and context from `ours` added (pure). A `theirs`
/// that is not a mapping is replaced by an empty kubeconfig.
pub fn merged(theirs: Option<Value>, ours: &Value, name: &str) -> Value {
    let mut theirs = theirs.filter(Value::is_mapping).unwrap_or_else(empty);
    let ctx = context_name(name);
    for (list, inner) in [
        ("clusters", "cluster"),
        ("users", "user"),
        ("contexts", "context"),
    ] {
        let mut entry = ours[list][0].clone();
        entry["name"] = ctx.clone().into();
        if inner == "context" {
            entry["context"]["cluster"] = ctx.clone().into();
            entry["context"]["user"] = ctx.clone().into();
        }
        let Some(map) = theirs.as_mapping_mut() else {
            continue;
        };
        let seq = map
            .entry(list.into())
            .or_insert_with(|| Value::Sequence(Vec::new()));
        if !seq.is_sequence() {
            *seq = Value::Sequence(Vec::new());
        }
        if let Some(s) = seq.as_sequence_mut() {
            s.retain(|e| e["name"].as_str() != Some(ctx.as_str()));
            s.push(entry);
        }
    }
    if theirs["current-context"].as_str().is_none_or(str::is_empty) {
        theirs["current-context"] = ctx.into();
    }
    theirs
}

fn empty() -> Value {
    let mut m = serde_yaml::Mapping::new();
    m.insert("apiVersion".into(), "v1".into());
    m.insert("kind".into(), "Config".into());
    Value::Mapping(m)
}

/// Merge lab `name`'s kubeconfig file into `target` (created if absent; an unreadable or
/// non-YAML target starts empty). Returns the context name.
pub fn merge_into(
    target: &Path,
    name: &str,
    lab_kubeconfig: &Path,
) -> Result<String, KubeconfigError> {
    let text = std::fs::read_to_string(lab_kubeconfig).map_err(|source| KubeconfigError::Read {
        path: lab_kubeconfig.to_path_buf(),
        source,
    })?;
    let ours: Value = serde_yaml::from_str(&text).map_err(|source| KubeconfigError::Parse {
        path: lab_kubeconfig.to_path_buf(),
        source,
    })?;
    let theirs = std::fs::read_to_string(target)
        .ok()
        .and_then(|t| serde_yaml::from_str(&t).ok());
    let out = merged(theirs, &ours, name);
    let write_err = |source| KubeconfigError::Write {
        path: target.to_path_buf(),
        source,
    };
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let text = serde_yaml::to_string(&out).map_err(KubeconfigError::Serialise)?;
    std::fs::write(target, text).map_err(write_err)?;
    Ok(context_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: https://127.0.0.1:6443\nusers:\n- name: lab\n  user:\n    token: t\ncontexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab\ncurrent-context: lab\n";

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn into_nothing_makes_the_lab_current() {
        let out = merged(None, &yaml(LAB), "x");
        assert_eq!(out["current-context"], "metallbctl-lab-x");
        assert_eq!(out["kind"], "Config");
        assert_eq!(out["clusters"][0]["name"], "metallbctl-lab-x");
        assert_eq!(
            out["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:6443"
        );
        assert_eq!(out["contexts"][0]["context"]["user"], "metallbctl-lab-x");
    }

    #[test]
    fn keeps_other_entries_and_the_current_context_and_replaces_its_own() {
        let theirs = yaml("apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  cluster: {server: https://prod}\n- name: metallbctl-lab-x\n  cluster: {server: https://old}\nusers: 3\n");
        let out = merged(Some(theirs), &yaml(LAB), "x");
        assert_eq!(out["current-context"], "prod");
        let clusters = out["clusters"].as_sequence().unwrap();
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0]["name"], "prod");
        assert_eq!(clusters[1]["cluster"]["server"], "https://127.0.0.1:6443");
        assert_eq!(out["users"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn writes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let lab = dir.path().join("lab");
        std::fs::write(&lab, LAB).unwrap();
        let target = dir.path().join("sub/config");
        assert_eq!(merge_into(&target, "y", &lab).unwrap(), "metallbctl-lab-y");
        let out = yaml(&std::fs::read_to_string(&target).unwrap());
        assert_eq!(out["current-context"], "metallbctl-lab-y");
        assert!(matches!(
            merge_into(&target, "y", &dir.path().join("missing")),
            Err(KubeconfigError::Read { .. })
        ));
    }
}
