//! The RBAC authorizer, evaluated as the real one is (`plugin/pkg/auth/authorizer/rbac`):
//! every ClusterRoleBinding whose subjects include the user contributes its ClusterRole's
//! rules everywhere; every RoleBinding in the request's namespace contributes its Role's (or
//! ClusterRole's) rules there. A request is allowed when one rule covers it. There is no deny.
//!
//! ClusterRoles with an `aggregationRule` hold the rules of every ClusterRole their selectors
//! match (the real cluster's aggregation controller writes them into `rules`; the lab does
//! the same in [`aggregate`], run when any ClusterRole is written, and the authorizer reads
//! the selected roles directly, so a rule is in force the moment its role is stored).
//!
//! Pure over a [`View`] of the store: no I/O, no clocks.

use serde_json::{json, Value};

use super::attributes::{Attributes, ResourceAttributes, Target};
use crate::lab::apiserver::admission::UserInfo;
use crate::lab::apiserver::store::View;

pub const CLUSTER_ROLES: &str = "rbac.authorization.k8s.io/v1/clusterroles";
pub const CLUSTER_ROLE_BINDINGS: &str = "rbac.authorization.k8s.io/v1/clusterrolebindings";
pub const ROLES: &str = "rbac.authorization.k8s.io/v1/roles";
pub const ROLE_BINDINGS: &str = "rbac.authorization.k8s.io/v1/rolebindings";

/// The decision on one request: allowed or not, and the reason the real authorizer gives
/// (errors such as a binding to a missing role; empty when nothing covers the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// The user's name for ServiceAccount `ns/name`.
pub fn service_account_user(ns: &str, name: &str) -> String {
    format!("system:serviceaccount:{ns}:{name}")
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Does a binding subject name this user?
fn subject_applies(subject: &Value, user: &UserInfo, binding_ns: &str) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("User") => user.name == name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = subject["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            !ns.is_empty() && user.name == service_account_user(ns, name)
        }
        _ => false,
    }
}

fn binding_applies(binding: &Value, user: &UserInfo, ns: &str) -> bool {
    binding["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| subject_applies(s, user, ns))
}

/// Does a label selector (matchLabels and matchExpressions) select this object?
fn selector_matches(selector: &Value, obj: &Value) -> bool {
    let labels = &obj["metadata"]["labels"];
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let by_labels = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str());
    let by_expressions = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let mut values = strings(&e["values"]);
            match e["operator"].as_str() {
                Some("In") => label(key).is_some_and(|l| values.any(|v| v == l)),
                Some("NotIn") => label(key).is_none_or(|l| values.all(|v| v != l)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        });
    by_labels && by_expressions
}

/// The ClusterRoles an aggregated ClusterRole's selectors pick (never itself).
fn aggregated<'a>(view: &View<'a>, role: &Value) -> Vec<&'a Value> {
    let Some(selectors) = role["aggregationRule"]["clusterRoleSelectors"].as_array() else {
        return Vec::new();
    };
    let own = role["metadata"]["name"].as_str().unwrap_or_default();
    view.trees(CLUSTER_ROLES)
        .map(|(_, r)| r.as_ref())
        .filter(|r| r["metadata"]["name"].as_str() != Some(own))
        .filter(|r| selectors.iter().any(|s| selector_matches(s, r)))
        .collect()
}

/// The rules of a ClusterRole: its own, or for an aggregated one, those of the roles it
/// selects (one level, as the aggregation controller computes them).
fn cluster_role_rules<'a>(view: &View<'a>, role: &'a Value) -> Vec<&'a Value> {
    if role["aggregationRule"].is_object() {
        // Read from the selected roles, not from `rules` (which the aggregation hook keeps
        // equal to them), so a store without the hook authorizes the same.
        let mut rules: Vec<&Value> = Vec::new();
        for r in aggregated(view, role) {
            rules.extend(r["rules"].as_array().into_iter().flatten());
        }
        rules
    } else {
        role["rules"].as_array().into_iter().flatten().collect()
    }
}

/// The rules a binding grants, or why it grants none.
fn role_rules<'a>(view: &View<'a>, binding: &Value, ns: &str) -> Result<Vec<&'a Value>, String> {
    let name = binding["roleRef"]["name"].as_str().unwrap_or_default();
    match binding["roleRef"]["kind"].as_str() {
        Some("ClusterRole") => match view.tree(CLUSTER_ROLES, "", name) {
            Some(role) => Ok(cluster_role_rules(view, role)),
            None => Err(format!(
                "clusterrole.rbac.authorization.k8s.io \"{name}\" not found"
            )),
        },
        Some("Role") => match view.tree(ROLES, ns, name) {
            Some(role) => Ok(role["rules"].as_array().into_iter().flatten().collect()),
            None => Err(format!(
                "role.rbac.authorization.k8s.io \"{name}\" not found"
            )),
        },
        _ => Err(format!("unknown roleRef kind in binding of {name}")),
    }
}

/// Visit every rule that applies to `user` in `namespace` ("" = cluster-wide bindings only),
/// until `visit` returns true. Returns the errors met on the way (missing roles).
pub fn visit_rules(
    view: &View<'_>,
    user: &UserInfo,
    namespace: &str,
    mut visit: impl FnMut(&Value) -> bool,
) -> (bool, Vec<String>) {
    let mut errors = Vec::new();
    for (_, b) in view.trees(CLUSTER_ROLE_BINDINGS) {
        if !binding_applies(b, user, "") {
            continue;
        }
        match role_rules(view, b, "") {
            Ok(rules) => {
                if rules.into_iter().any(&mut visit) {
                    return (true, errors);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if namespace.is_empty() {
        return (false, errors);
    }
    for (key, b) in view.trees(ROLE_BINDINGS) {
        if key.0 != namespace || !binding_applies(b, user, namespace) {
            continue;
        }
        match role_rules(view, b, namespace) {
            Ok(rules) => {
                if rules.into_iter().any(&mut visit) {
                    return (true, errors);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    (false, errors)
}

fn has(list: &Value, want: &str) -> bool {
    strings(list).any(|v| v == "*" || v == want)
}

/// Does `rule` cover a resource request?
pub fn rule_allows_resource(rule: &Value, verb: &str, r: &ResourceAttributes) -> bool {
    if !has(&rule["verbs"], verb) || !has(&rule["apiGroups"], &r.group) {
        return false;
    }
    let combined = r.combined();
    let resource_ok = strings(&rule["resources"]).any(|res| {
        res == "*"
            || res == combined
            || (!r.subresource.is_empty() && res.strip_prefix("*/") == Some(&r.subresource))
    });
    let names: Vec<&str> = strings(&rule["resourceNames"]).collect();
    resource_ok && (names.is_empty() || names.contains(&r.name.as_str()))
}

/// Does `rule` cover a non-resource request?
pub fn rule_allows_path(rule: &Value, verb: &str, path: &str) -> bool {
    has(&rule["verbs"], verb)
        && strings(&rule["nonResourceURLs"]).any(|u| {
            u == "*"
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
}

/// Does `rule` cover the request?
pub fn rule_allows(rule: &Value, a: &Attributes) -> bool {
    match &a.target {
        Target::Resource(r) => rule_allows_resource(rule, &a.verb, r),
        Target::NonResource(p) => rule_allows_path(rule, &a.verb, p),
    }
}

/// Authorize a request by RBAC alone.
pub fn authorize(view: &View<'_>, user: &UserInfo, a: &Attributes) -> Decision {
    let ns = match &a.target {
        Target::Resource(r) => r.namespace.as_str(),
        Target::NonResource(_) => "",
    };
    let (allowed, errors) = visit_rules(view, user, ns, |rule| rule_allows(rule, a));
    let reason = if allowed || errors.is_empty() {
        String::new()
    } else {
        format!("RBAC: {}", errors.join(", "))
    };
    Decision { allowed, reason }
}

/// Every rule that applies to `user` in `namespace`, for SelfSubjectRulesReview: resource
/// rules and non-resource rules, each in its API shape.
pub fn rules_for(view: &View<'_>, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>) {
    let (mut resource, mut non_resource) = (Vec::new(), Vec::new());
    let pick = |v: &Value| -> Value { json!(strings(v).collect::<Vec<_>>()) };
    visit_rules(view, user, namespace, |rule| {
        if rule["nonResourceURLs"].is_array() {
            non_resource.push(json!({"verbs": pick(&rule["verbs"]), "nonResourceURLs": pick(&rule["nonResourceURLs"])}));
        }
        if rule["resources"].is_array() {
            let mut r = json!({"verbs": pick(&rule["verbs"]), "apiGroups": pick(&rule["apiGroups"]), "resources": pick(&rule["resources"])});
            if rule["resourceNames"].is_array() {
                r["resourceNames"] = pick(&rule["resourceNames"]);
            }
            resource.push(r);
        }
        false
    });
    (resource, non_resource)
}

/// The rules an aggregated ClusterRole should hold now, if it is one.
pub fn aggregate(view: &View<'_>, role: &Value) -> Option<Vec<Value>> {
    role["aggregationRule"].is_object().then(|| {
        let mut rules: Vec<Value> = Vec::new();
        for r in aggregated(view, role) {
            for rule in r["rules"].as_array().into_iter().flatten() {
                if !rules.contains(rule) {
                    rules.push(rule.clone());
                }
            }
        }
        rules
    })
}

/// The real server's 403 message for a denied request (`forbidden` in its handlers).
pub fn forbidden_message(user: &str, a: &Attributes, reason: &str) -> String {
    let mut msg = match &a.target {
        Target::Resource(r) => {
            let subject = match (r.name.as_str(), r.group.as_str()) {
                ("", "") => r.resource.clone(),
                ("", g) => format!("{}.{g}", r.resource),
                (n, "") => format!("{} \"{n}\"", r.resource),
                (n, g) => format!("{}.{g} \"{n}\"", r.resource),
            };
            let scope = if r.namespace.is_empty() {
                "at the cluster scope".to_string()
            } else {
                format!("in the namespace \"{}\"", r.namespace)
            };
            format!(
                "{subject} is forbidden: User \"{user}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
                a.verb,
                r.combined(),
                r.group
            )
        }
        Target::NonResource(path) => {
            format!(
                "forbidden: User \"{user}\" cannot {} path \"{path}\"",
                a.verb
            )
        }
    };
    if !reason.is_empty() {
        msg.push_str(": ");
        msg.push_str(reason);
    }
    msg
}

/// The 403 Status the real server sends, with its `details`.
pub fn forbidden_status(user: &str, a: &Attributes, reason: &str) -> Value {
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": forbidden_message(user, a, reason),
        "reason": "Forbidden",
        "code": 403,
    });
    if let Target::Resource(r) = &a.target {
        let mut details = json!({"group": r.group, "kind": r.resource});
        if !r.name.is_empty() {
            details["name"] = json!(r.name);
        }
        status["details"] = details;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::super::attributes::of_request;
    use super::*;
    use crate::lab::apiserver::resources::Registry;
    use crate::lab::apiserver::store::{Store, WriteOptions};

    fn put(store: &Store, plural: &str, ns: Option<&str>, obj: Value) {
        let def = store
            .registry()
            .find("rbac.authorization.k8s.io", "v1", plural);
        let created = def.map(|d| store.create(&d, ns, obj, &WriteOptions::default()));
        assert!(matches!(created, Some(Ok(_))), "{created:?}");
    }

    fn sa(ns: &str, name: &str) -> UserInfo {
        UserInfo {
            name: service_account_user(ns, name),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
        }
    }

    fn allowed(store: &Store, user: &UserInfo, method: &str, path: &str) -> bool {
        let a = of_request(method, path, false);
        store
            .read(|v| authorize(v, user, &a).allowed)
            .unwrap_or(false)
    }

    fn store() -> Store {
        let s = Store::new(Registry::default(), 100);
        put(
            &s,
            "clusterroles",
            None,
            json!({"metadata": {"name": "svc-reader"}, "rules": [
                {"apiGroups": [""], "resources": ["services", "*/status"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["config"], "verbs": ["get"]},
                {"nonResourceURLs": ["/healthz", "/metrics/*"], "verbs": ["get"]},
            ]}),
        );
        put(
            &s,
            "rolebindings",
            Some("default"),
            json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "svc-reader", "apiGroup": "rbac.authorization.k8s.io"},
                   "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}]}),
        );
        s
    }

    #[test]
    fn role_binding_grants_only_in_its_namespace_and_verbs() {
        let s = store();
        let u = sa("default", "reader");
        assert!(allowed(
            &s,
            &u,
            "GET",
            "/api/v1/namespaces/default/services"
        ));
        assert!(allowed(
            &s,
            &u,
            "GET",
            "/api/v1/namespaces/default/services/web"
        ));
        assert!(!allowed(&s, &u, "GET", "/api/v1/namespaces/other/services"));
        assert!(!allowed(&s, &u, "GET", "/api/v1/services"), "cluster scope");
        let watch = of_request("GET", "/api/v1/namespaces/default/services", true);
        assert!(!s.read(|v| authorize(v, &u, &watch).allowed).unwrap_or(true));
        assert!(!allowed(
            &s,
            &u,
            "DELETE",
            "/api/v1/namespaces/default/services/web"
        ));
        assert!(!allowed(
            &s,
            &sa("default", "other"),
            "GET",
            "/api/v1/namespaces/default/services"
        ));
    }

    #[test]
    fn subresources_resource_names_and_paths() {
        let s = store();
        let u = sa("default", "reader");
        assert!(allowed(
            &s,
            &u,
            "GET",
            "/api/v1/namespaces/default/services/web/status"
        ));
        assert!(!allowed(
            &s,
            &u,
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/d/status"
        ));
        assert!(allowed(
            &s,
            &u,
            "GET",
            "/api/v1/namespaces/default/configmaps/config"
        ));
        assert!(!allowed(
            &s,
            &u,
            "GET",
            "/api/v1/namespaces/default/configmaps/other"
        ));
        assert!(!allowed(
            &s,
            &u,
            "GET",
            "/api/v1/namespaces/default/configmaps"
        ));
        // Non-resource URLs come from cluster-wide bindings only.
        assert!(!allowed(&s, &u, "GET", "/healthz"));
        put(
            &s,
            "clusterrolebindings",
            None,
            json!({"metadata": {"name": "crb"}, "roleRef": {"kind": "ClusterRole", "name": "svc-reader"},
                   "subjects": [{"kind": "Group", "name": "system:serviceaccounts:default"}]}),
        );
        assert!(allowed(&s, &u, "GET", "/healthz"));
        assert!(allowed(&s, &u, "GET", "/metrics/cadvisor"));
        assert!(!allowed(&s, &u, "GET", "/metrics"));
        assert!(allowed(&s, &u, "GET", "/api/v1/services"));
    }

    #[test]
    fn aggregation_and_missing_roles() {
        let s = store();
        put(
            &s,
            "clusterroles",
            None,
            json!({"metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x/aggregate": "true"}}]}, "rules": []}),
        );
        put(
            &s,
            "clusterrolebindings",
            None,
            json!({"metadata": {"name": "u-agg"}, "roleRef": {"kind": "ClusterRole", "name": "agg"}, "subjects": [{"kind": "User", "name": "u"}]}),
        );
        let u = UserInfo {
            name: "u".into(),
            groups: vec![],
        };
        assert!(!allowed(&s, &u, "GET", "/api/v1/nodes"));
        put(
            &s,
            "clusterroles",
            None,
            json!({"metadata": {"name": "part", "labels": {"x/aggregate": "true"}}, "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]}),
        );
        assert!(allowed(&s, &u, "GET", "/api/v1/nodes"));
        // The aggregation hook wrote the selected role's rule into the aggregated role.
        let stored = s.read(|v| v.get(CLUSTER_ROLES, "", "agg").map(|r| r["rules"].clone()));
        assert_eq!(
            stored.ok().flatten(),
            Some(json!([{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]))
        );
        let agg = s.read(|v| v.get(CLUSTER_ROLES, "", "agg"));
        let rules = s.read(|v| agg.ok().flatten().and_then(|r| aggregate(v, &r)));
        assert_eq!(rules.ok().flatten().map(|r| r.len()), Some(1));

        put(
            &s,
            "clusterrolebindings",
            None,
            json!({"metadata": {"name": "dangling"}, "roleRef": {"kind": "ClusterRole", "name": "gone"}, "subjects": [{"kind": "User", "name": "u"}]}),
        );
        let a = of_request("GET", "/api/v1/secrets", false);
        let d = s.read(|v| authorize(v, &u, &a));
        assert_eq!(
            d.ok().map(|d| d.reason),
            Some("RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found".into())
        );
    }

    #[test]
    fn forbidden_messages_are_the_real_ones() {
        let a = of_request("GET", "/api/v1/services", false);
        assert_eq!(
            forbidden_message("system:serviceaccount:metallb-system:controller", &a, ""),
            "services is forbidden: User \"system:serviceaccount:metallb-system:controller\" cannot list resource \"services\" in API group \"\" at the cluster scope"
        );
        let a = of_request(
            "PUT",
            "/api/v1/namespaces/default/services/nginx/status",
            false,
        );
        assert_eq!(
            forbidden_message("u", &a, ""),
            "services \"nginx\" is forbidden: User \"u\" cannot update resource \"services/status\" in API group \"\" in the namespace \"default\""
        );
        let a = of_request("POST", "/apis/apps/v1/namespaces/x/deployments", false);
        assert!(forbidden_message("u", &a, "").starts_with("deployments.apps is forbidden"));
        let a = of_request("GET", "/apis", false);
        assert_eq!(
            forbidden_message("u", &a, ""),
            "forbidden: User \"u\" cannot get path \"/apis\""
        );
        let st = forbidden_status(
            "u",
            &of_request("GET", "/api/v1/namespaces/d/pods/p", false),
            "",
        );
        assert_eq!(
            st["details"],
            json!({"group": "", "kind": "pods", "name": "p"})
        );
        assert_eq!(st["code"], 403);
    }
}
