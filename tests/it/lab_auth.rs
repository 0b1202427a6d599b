//! Authentication and RBAC in the lab, with the real kubectl: ServiceAccount tokens from
//! `kubectl create token`, a narrow Role refusing everything outside it with the real 403
//! message, `kubectl auth can-i` agreeing with what the server does (for the token's holder
//! and through impersonation), `auth whoami`, and MetalLB's controller failing with a 403 in
//! its log when its manifest lacks a permission.

use crate::support::{eventually, have_kubectl, manifest, Lab};

const NARROW: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: default}
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["services/status"]
  verbs: ["get"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  resourceNames: ["web"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: default}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {a: "1"}
"#;

fn apply(lab: &Lab, text: &str) {
    let path = lab.dir.join("apply.yaml");
    std::fs::write(&path, text).expect("write manifest");
    lab.k(&["apply", "-f", path.to_str().unwrap_or_default()]);
}

/// `kubectl auth can-i` as the caller of `who`: true for "yes".
fn can_i(lab: &Lab, who: &[&str], what: &[&str]) -> bool {
    let mut args = vec!["auth", "can-i"];
    args.extend_from_slice(what);
    args.extend_from_slice(who);
    let (_, out) = lab.kubectl(&args);
    match out.trim() {
        "yes" => true,
        "no" => false,
        other => panic!("kubectl {args:?}: unexpected answer {other:?}"),
    }
}

#[test]
fn a_narrow_role_gets_403_outside_it_and_can_i_agrees() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("auth-narrow");
    lab.up(&[]);
    apply(&lab, NARROW);
    let token = lab.k(&["create", "token", "reader"]).trim().to_string();
    let as_token = format!("--token={token}");
    let who = [as_token.as_str()];

    let whoami = lab.k(&["auth", "whoami", &as_token]);
    assert!(
        whoami.contains("system:serviceaccount:default:reader")
            && whoami.contains("system:serviceaccounts:default"),
        "{whoami}"
    );

    // Inside the Role.
    assert!(lab
        .k(&["get", "configmap", "settings", "-o", "name", &as_token])
        .contains("configmap/settings"));
    // Outside it: other resources, other namespaces, other verbs, other names.
    let (ok, out) = lab.kubectl(&["get", "secrets", &as_token]);
    assert!(!ok);
    assert_eq!(
        out.trim(),
        "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:default:reader\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
    );
    let (ok, out) = lab.kubectl(&["get", "configmaps", "-n", "kube-system", &as_token]);
    assert!(!ok && out.contains("cannot list resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""), "{out}");
    let (ok, out) = lab.kubectl(&["delete", "configmap", "settings", &as_token]);
    assert!(
        !ok && out.contains("configmaps \"settings\" is forbidden")
            && out.contains("cannot delete resource"),
        "{out}"
    );
    let (ok, out) = lab.kubectl(&["get", "services", "-A", &as_token]);
    assert!(!ok && out.contains("at the cluster scope"), "{out}");

    // can-i agrees with what the server did, for each case, for the token's holder and
    // for an administrator impersonating it.
    let sa = "--as=system:serviceaccount:default:reader";
    for (what, server_allows) in [
        (&["get", "configmaps/settings"][..], true),
        (&["list", "configmaps"][..], true),
        (&["watch", "configmaps"][..], false),
        (&["list", "secrets"][..], false),
        (&["list", "configmaps", "-n", "kube-system"][..], false),
        (&["delete", "configmaps/settings"][..], false),
        (&["get", "services/nginx", "--subresource=status"][..], true),
        (&["get", "services/nginx"][..], false),
        (&["get", "deployments.apps/web"][..], true),
        (&["get", "deployments.apps/api"][..], false),
        (&["list", "services", "-A"][..], false),
    ] {
        assert_eq!(can_i(&lab, &who, what), server_allows, "can-i {what:?}");
        assert_eq!(
            can_i(&lab, &[sa], what),
            server_allows,
            "can-i {what:?} {sa}"
        );
    }
    // ... and with the server, for requests the server refuses.
    let (ok, _) = lab.kubectl(&["get", "configmaps", "-w", "--request-timeout=2s", &as_token]);
    assert!(!ok, "watch is not in the Role");
    let (ok, out) = lab.kubectl(&["get", "configmaps", sa]);
    assert!(ok, "impersonated list: {out}");
    let (ok, out) = lab.kubectl(&["get", "secrets", sa]);
    assert!(
        !ok && out.contains("User \"system:serviceaccount:default:reader\" cannot list"),
        "{out}"
    );

    // The narrow user may not impersonate anyone.
    let (ok, out) = lab.kubectl(&["get", "configmaps", &as_token, "--as=lab-admin"]);
    assert!(
        !ok && out.contains("users \"lab-admin\" is forbidden")
            && out.contains("cannot impersonate resource \"users\""),
        "{out}"
    );

    // can-i --list shows the Role's rules.
    let list = lab.k(&["auth", "can-i", "--list", &as_token]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("configmaps ") && l.contains("[get list]")),
        "{list}"
    );
    assert!(!list.contains("*.*"), "{list}");

    // A token that is not the lab's is refused with 401.
    let (ok, out) = lab.kubectl(&["get", "configmaps", "--token=not-a-lab-token"]);
    assert!(
        !ok && out.contains("You must be logged in to the server (Unauthorized)"),
        "{out}"
    );
    let forged = format!("{}x", &token[..token.len() - 1]);
    let (ok, out) = lab.kubectl(&["get", "configmaps", &format!("--token={forged}")]);
    assert!(!ok && out.contains("Unauthorized"), "{out}");
    // Deleting the ServiceAccount invalidates its tokens.
    lab.k(&["delete", "serviceaccount", "reader"]);
    let (ok, out) = lab.kubectl(&["get", "configmaps", &as_token]);
    assert!(!ok && out.contains("Unauthorized"), "{out}");
}

#[test]
fn metallb_components_run_as_their_service_accounts_and_a_missing_permission_is_a_403() {
    if !have_kubectl() {
        return;
    }
    let full = std::fs::read_to_string(manifest("metallb.yaml")).expect("read the manifest");
    let rule = "- apiGroups: [\"\"]\n  resources: [\"services\"]\n  verbs: [\"get\", \"list\", \"watch\"]\n";
    assert!(
        full.contains(rule),
        "the controller's ClusterRole lists services"
    );
    let without = full.replacen(rule, "", 1);

    let lab = Lab::new("auth-manifest");
    lab.up(&[]);
    // The manifest as shipped: the speaker's permissions are what can-i says, and the
    // controller's log has no 403.
    apply(&lab, &full);
    let speaker = "--as=system:serviceaccount:metallb-system:speaker";
    assert!(can_i(&lab, &[speaker], &["list", "services", "-A"]));
    assert!(can_i(
        &lab,
        &[speaker],
        &["watch", "endpointslices.discovery.k8s.io", "-A"]
    ));
    assert!(!can_i(
        &lab,
        &[speaker],
        &["update", "services/status", "-A"]
    ));
    let logs = |lab: &Lab| {
        lab.kubectl(&["logs", "-n", "metallb-system", "deploy/controller"])
            .1
    };
    eventually(
        20,
        "the controller starts",
        || {
            logs(&lab)
                .contains("MetalLB controller starting")
                .then_some(())
        },
        || logs(&lab),
    );

    // Without `list services` the controller fails, and says why in its log.
    apply(&lab, &without);
    lab.k(&[
        "delete",
        "pod",
        "-n",
        "metallb-system",
        "-l",
        "component=controller",
    ]);
    let want = "services is forbidden: User \"system:serviceaccount:metallb-system:controller\" cannot list resource \"services\" in API group \"\" at the cluster scope";
    eventually(
        20,
        "the controller logs a 403",
        || logs(&lab).contains(want).then_some(()),
        || logs(&lab),
    );
    assert!(!can_i(
        &lab,
        &["--as=system:serviceaccount:metallb-system:controller"],
        &["list", "services", "-A"]
    ));
}

/// `kubectl exec` into router containers until `want` shows up in every answer.
fn exec_until(lab: &Lab, pod: &str, container: &str, cmd: &[&str], want: &str) -> String {
    let mut args = vec!["exec", "-n", "metallb-system", pod, "-c", container, "--"];
    args.extend_from_slice(cmd);
    eventually(
        30,
        &format!("{want} in `{}`", cmd.join(" ")),
        || {
            let (ok, out) = lab.kubectl(&args);
            (ok && out.contains(want)).then_some(out)
        },
        || lab.kubectl(&args).1,
    )
}

#[test]
fn exec_into_builtin_routers_and_simulated_containers() {
    if !have_kubectl() {
        return;
    }
    let lab = Lab::new("auth-exec");
    lab.up(&["--tutorial"]);
    let pod = lab.router_pod();
    let bird = exec_until(
        &lab,
        &pod,
        "bird",
        &["birdc", "show", "route"],
        "198.51.100.0/32",
    );
    assert!(
        bird.starts_with("BIRD ") && bird.contains("via 127.0.1.1"),
        "{bird}"
    );
    let frr = exec_until(
        &lab,
        &pod,
        "frr",
        &["vtysh", "-c", "show ip bgp"],
        "198.51.100.0/32",
    );
    assert!(
        frr.contains("local AS 64500") && frr.contains("Displayed  1 routes"),
        "{frr}"
    );
    let sum = exec_until(
        &lab,
        &pod,
        "frr",
        &["vtysh", "-c", "show bgp summary"],
        "127.0.1.1",
    );
    assert!(sum.contains("Neighbor"), "{sum}");

    // A command the container does not have, an unknown built-in command (exit code 1, as
    // the real tools), and containers with nothing to exec into.
    let (ok, out) = lab.kubectl(&[
        "exec",
        "-n",
        "metallb-system",
        &pod,
        "-c",
        "frr",
        "--",
        "birdc",
        "show",
        "route",
    ]);
    assert!(
        !ok && out.contains("\"birdc\": not found in container frr"),
        "{out}"
    );
    let (ok, out) = lab.kubectl(&[
        "exec",
        "-n",
        "metallb-system",
        &pod,
        "-c",
        "bird",
        "--",
        "birdc",
        "configure",
    ]);
    assert!(
        !ok && out.contains("command terminated with exit code 1"),
        "{out}"
    );
    let (ok, out) = lab.kubectl(&[
        "exec",
        "-n",
        "metallb-system",
        "deploy/controller",
        "--",
        "ls",
    ]);
    assert!(!ok && out.contains("simulated container, no exec"), "{out}");

    // exec is `create pods/exec`: a viewer (the aggregated `view` ClusterRole) may read the
    // pod but is refused the exec before anything runs.
    apply(
        &lab,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: viewer}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]\n",
    );
    let (ok, out) = lab.kubectl(&[
        "exec",
        "-n",
        "metallb-system",
        &pod,
        "-c",
        "bird",
        "--as=viewer",
        "--",
        "birdc",
        "show",
        "route",
    ]);
    assert!(
        !ok && out.contains("User \"viewer\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"metallb-system\""),
        "{out}"
    );
}

#[test]
fn exec_into_real_bird_and_frr() {
    if !have_kubectl() || !crate::support::have_real_routers() {
        return;
    }
    let lab = Lab::new("auth-exec-real");
    lab.up(&["--tutorial", "--routers", "real"]);
    let pod = lab.router_pod();
    // The real tools' own banners and layouts.
    let bird = exec_until(
        &lab,
        &pod,
        "bird",
        &["birdc", "show", "route"],
        "198.51.100.0/32",
    );
    assert!(
        bird.starts_with("BIRD 2.") && bird.contains("Table master4:"),
        "{bird}"
    );
    let protocols = exec_until(
        &lab,
        &pod,
        "bird",
        &["birdc", "show", "protocols"],
        "Established",
    );
    assert!(protocols.contains("BGP"), "{protocols}");
    let frr = exec_until(
        &lab,
        &pod,
        "frr",
        &["vtysh", "-c", "show ip bgp"],
        "198.51.100.0/32",
    );
    assert!(
        frr.contains("BGP table version") && frr.contains("127.0.1.1"),
        "{frr}"
    );
    let (ok, out) = lab.kubectl(&[
        "exec",
        "-n",
        "metallb-system",
        &pod,
        "-c",
        "bird",
        "--",
        "birdc",
        "show",
        "nonsense",
    ]);
    assert!(
        !ok && out.contains("command terminated with exit code 1"),
        "{out}"
    );
}
