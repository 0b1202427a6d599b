//! Authentication and authorization, in front of every handler, in the real server's order:
//!
//! ```text
//! request ─▶ authenticate (bearer token) ─▶ impersonate (Impersonate-* headers)
//!         ─▶ authorize (system:masters, else RBAC) ─▶ handler (user in the extensions)
//!          401 ◄┘                    403 ◄┘                      403 ◄┘
//! ```
//!
//! Two kinds of bearer token are accepted: the lab's admin token from the kubeconfig (user
//! `lab-admin` in `system:masters`, compared in constant time), and ServiceAccount tokens
//! ([`tokens`]), signed with a key derived from the admin token, so they stay valid across
//! restarts of the same lab and cannot be made without it. `/version` and the health
//! endpoints are public, as `system:public-info-viewer` makes them on a real cluster.

pub mod aggregation;
pub mod attributes;
pub mod bootstrap;
mod proto;
pub mod rbac;
pub mod reviews;
pub mod tokens;

use ring::digest;
use ring::hmac;
use serde_json::json;

use super::admission::UserInfo;
use super::error::ApiError;
use super::store::{Store, View};
use attributes::{Attributes, ResourceAttributes, Target};
use tokens::{Binding, TokenKey};

/// The group whose members pass every authorization check.
pub const MASTERS: &str = "system:masters";
/// Every authenticated user is in this group.
pub const AUTHENTICATED: &str = "system:authenticated";

/// Paths anyone may read, without a token.
pub fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
}

/// The ServiceAccount token key of a lab with this admin token.
pub fn token_key(admin_token: &str) -> TokenKey {
    let derive = hmac::Key::new(hmac::HMAC_SHA256, admin_token.as_bytes());
    TokenKey::new(hmac::sign(&derive, b"metallbctl-lab serviceaccount tokens v1").as_ref())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Is `presented` the admin token? Compares digests, so the time taken does not depend on
/// where (or whether) the two differ, nor on their lengths.
pub fn is_admin_token(presented: &str, admin_token: &str) -> bool {
    let a = digest::digest(&digest::SHA256, presented.as_bytes());
    let b = digest::digest(&digest::SHA256, admin_token.as_bytes());
    constant_time_eq(a.as_ref(), b.as_ref())
}

/// Who presents `token`, or `None` (401).
pub fn authenticate(store: &Store, admin_token: &str, token: &str) -> Option<UserInfo> {
    Authorizer::new(admin_token).authenticate(store, token)
}

/// Authentication and authorization for one server, with a cache: ServiceAccount tokens
/// already verified, and requests already allowed, for the store's current resourceVersion
/// (any write empties it, so a changed binding, role or ServiceAccount takes effect at once).
pub struct Authorizer {
    admin_token: String,
    key: TokenKey,
    cache: std::sync::Mutex<Cache>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authorizer(..)")
    }
}

/// Entries kept per resourceVersion before the cache starts over.
const CACHE_LIMIT: usize = 4096;

#[derive(Default)]
struct Cache {
    rv: u64,
    /// token -> (user, expiry)
    tokens: std::collections::HashMap<String, (UserInfo, Option<i64>)>,
    /// (user, groups, attributes) allowed.
    allowed: std::collections::HashSet<(String, Vec<String>, Attributes)>,
}

impl Authorizer {
    pub fn new(admin_token: &str) -> Self {
        Authorizer {
            admin_token: admin_token.to_string(),
            key: token_key(admin_token),
            cache: std::sync::Mutex::new(Cache::default()),
        }
    }

    /// The cache, emptied if the store changed since it was filled.
    fn cache(&self, rv: u64) -> Option<std::sync::MutexGuard<'_, Cache>> {
        let mut c = self.cache.lock().ok()?;
        if c.rv != rv || c.tokens.len() + c.allowed.len() > CACHE_LIMIT {
            c.tokens.clear();
            c.allowed.clear();
            c.rv = rv;
        }
        Some(c)
    }

    /// Who presents `token`, or `None` (401).
    pub fn authenticate(&self, store: &Store, token: &str) -> Option<UserInfo> {
        if is_admin_token(token, &self.admin_token) {
            return Some(UserInfo::token_holder());
        }
        if token.matches('.').count() != 2 {
            return None;
        }
        let now = jiff::Timestamp::now().as_second();
        let rv = store.resource_version();
        if let Some((user, exp)) = self.cache(rv).and_then(|c| c.tokens.get(token).cloned()) {
            return exp.is_none_or(|e| now < e).then_some(user);
        }
        let binding = self.key.verify(token, now)?;
        let user = store.read(|v| binding.user(v)).ok().flatten()?;
        // Cached only if nothing changed while it was looked up.
        if let Some(mut c) = Some(rv)
            .filter(|rv| store.resource_version() == *rv)
            .and_then(|rv| self.cache(rv))
        {
            c.tokens
                .insert(token.to_string(), (user.clone(), binding.expires));
        }
        Some(user)
    }

    /// Authenticate, impersonate and authorize one request. On success, the user it acts as.
    pub fn admit(
        &self,
        store: &Store,
        headers: &http::HeaderMap,
        method: &str,
        path: &str,
        watch: bool,
    ) -> Result<UserInfo, Refusal> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Refusal::Unauthorized)?;
        let user = self
            .authenticate(store, token)
            .ok_or(Refusal::Unauthorized)?;
        let a = attributes::of_request(method, path, watch);
        if let Some(imp) = Impersonation::from_headers(headers) {
            return store
                .read(|view| {
                    let user = impersonate(view, &user, &imp)?;
                    check(view, &user, &a)?;
                    Ok(user)
                })
                .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        }
        if user.groups.iter().any(|g| g == MASTERS) {
            return Ok(user);
        }
        let rv = store.resource_version();
        let key = (user.name.clone(), user.groups.clone(), a);
        if self.cache(rv).is_some_and(|c| c.allowed.contains(&key)) {
            return Ok(user);
        }
        store
            .read(|view| check(view, &user, &key.2))
            .map_err(|e| Refusal::BadRequest(e.to_string()))??;
        if let Some(mut c) = Some(rv)
            .filter(|rv| store.resource_version() == *rv)
            .and_then(|rv| self.cache(rv))
        {
            c.allowed.insert(key);
        }
        Ok(user)
    }
}

/// A request's `Impersonate-*` headers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Impersonation {
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub uid: Option<String>,
}

impl Impersonation {
    /// Read them from the headers; `None` when there are none.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Impersonation> {
        let text = |v: &http::HeaderValue| v.to_str().ok().map(String::from);
        let imp = Impersonation {
            user: headers.get("impersonate-user").and_then(text),
            groups: headers
                .get_all("impersonate-group")
                .iter()
                .filter_map(text)
                .collect(),
            uid: headers.get("impersonate-uid").and_then(text),
        };
        (imp != Impersonation::default()).then_some(imp)
    }
}

/// Why a request was refused.
#[derive(Debug)]
pub enum Refusal {
    Unauthorized,
    BadRequest(String),
    /// The 403 Status body.
    Forbidden(serde_json::Value),
}

/// Is `user` allowed to do `a`? `system:masters` always is; anyone else by RBAC.
pub fn allowed(view: &View<'_>, user: &UserInfo, a: &Attributes) -> rbac::Decision {
    if user.groups.iter().any(|g| g == MASTERS) {
        return rbac::Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    rbac::authorize(view, user, a)
}

fn check(view: &View<'_>, user: &UserInfo, a: &Attributes) -> Result<(), Refusal> {
    let d = allowed(view, user, a);
    if d.allowed {
        Ok(())
    } else {
        Err(Refusal::Forbidden(rbac::forbidden_status(
            &user.name, a, &d.reason,
        )))
    }
}

fn impersonate_attrs(resource: &str, group: &str, ns: &str, name: &str) -> Attributes {
    Attributes {
        verb: "impersonate".into(),
        target: Target::Resource(ResourceAttributes {
            group: group.into(),
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..ResourceAttributes::default()
        }),
    }
}

/// The user `requester` becomes through `imp`, once every part is authorized (the real
/// server checks `impersonate` on users, serviceaccounts, groups and uids).
pub fn impersonate(
    view: &View<'_>,
    requester: &UserInfo,
    imp: &Impersonation,
) -> Result<UserInfo, Refusal> {
    let Some(name) = &imp.user else {
        return Err(Refusal::BadRequest(
            "requested impersonation of groups or a uid without impersonating a user".into(),
        ));
    };
    let sa = name
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'));
    let target = match sa {
        Some((ns, sa_name)) => impersonate_attrs("serviceaccounts", "", ns, sa_name),
        None => impersonate_attrs("users", "", "", name),
    };
    check(view, requester, &target)?;
    for g in &imp.groups {
        check(view, requester, &impersonate_attrs("groups", "", "", g))?;
    }
    if let Some(uid) = &imp.uid {
        check(
            view,
            requester,
            &impersonate_attrs("uids", "authentication.k8s.io", "", uid),
        )?;
    }
    let mut groups = imp.groups.clone();
    if let (Some((ns, _)), true) = (sa, groups.is_empty()) {
        groups = tokens::service_account_groups(ns);
    }
    if name != "system:anonymous" && !groups.iter().any(|g| g == AUTHENTICATED) {
        groups.push(AUTHENTICATED.into());
    }
    Ok(UserInfo {
        name: name.clone(),
        groups,
    })
}

impl Refusal {
    /// The Status response.
    pub fn into_response(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        match self {
            Refusal::Unauthorized => ApiError::Unauthorized.into_response(),
            Refusal::BadRequest(m) => ApiError::BadRequest(m).into_response(),
            Refusal::Forbidden(status) => (
                http::StatusCode::FORBIDDEN,
                [(http::header::CONTENT_TYPE, "application/json")],
                serde_json::to_vec(&status).unwrap_or_default(),
            )
                .into_response(),
        }
    }
}

/// A token for a pod's ServiceAccount, bound to the pod: what the kubelet would project into
/// the pod, handed to in-process components instead.
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    store: Store,
    key: TokenKey,
}

/// Why no token could be issued (the real kubelet's message for a pod whose ServiceAccount
/// is missing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    #[error(
        "error looking up service account {namespace}/{name}: serviceaccount \"{name}\" not found"
    )]
    NoServiceAccount { namespace: String, name: String },
    #[error("pod \"{0}\" not found")]
    NoPod(String),
}

impl TokenIssuer {
    pub fn new(store: Store, admin_token: &str) -> Self {
        TokenIssuer {
            store,
            key: token_key(admin_token),
        }
    }

    /// The token of the pod `ns/pod`'s ServiceAccount (`spec.serviceAccountName`, or
    /// `default`), bound to the pod.
    pub fn for_pod(&self, ns: &str, pod: &str) -> Result<String, IssueError> {
        let found = self
            .store
            .read(|v| {
                let p = v.get("/v1/pods", ns, pod)?;
                let sa_name = p["spec"]["serviceAccountName"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .or_else(|| p["spec"]["serviceAccount"].as_str())
                    .unwrap_or("default")
                    .to_string();
                let pod_uid = p["metadata"]["uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let sa_uid = v.get("/v1/serviceaccounts", ns, &sa_name).map(|sa| {
                    sa["metadata"]["uid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                });
                Some((sa_name, sa_uid, pod_uid))
            })
            .ok()
            .flatten();
        let Some((sa, sa_uid, pod_uid)) = found else {
            return Err(IssueError::NoPod(pod.into()));
        };
        let Some(sa_uid) = sa_uid else {
            return Err(IssueError::NoServiceAccount {
                namespace: ns.into(),
                name: sa,
            });
        };
        Ok(self.key.mint(&Binding {
            namespace: ns.into(),
            service_account: sa,
            service_account_uid: sa_uid,
            pod: Some((pod.into(), pod_uid)),
            expires: None,
        }))
    }

    /// A token for ServiceAccount `ns/name`, valid until `expires` (seconds since the epoch):
    /// what `kubectl create token` gets through the TokenRequest API.
    pub fn for_service_account(
        &self,
        ns: &str,
        name: &str,
        expires: Option<i64>,
    ) -> Result<String, IssueError> {
        let uid = self
            .store
            .read(|v| {
                v.get("/v1/serviceaccounts", ns, name).map(|sa| {
                    sa["metadata"]["uid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
            })
            .ok()
            .flatten()
            .ok_or_else(|| IssueError::NoServiceAccount {
                namespace: ns.into(),
                name: name.into(),
            })?;
        Ok(self.key.mint(&Binding {
            namespace: ns.into(),
            service_account: name.into(),
            service_account_uid: uid,
            pod: None,
            expires,
        }))
    }
}

/// The `userInfo` of a user in review statuses.
pub fn user_info_json(user: &UserInfo) -> serde_json::Value {
    json!({"username": user.name, "groups": user.groups})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lab::apiserver::resources::Registry;
    use crate::lab::apiserver::store::WriteOptions;

    fn put(store: &Store, group: &str, plural: &str, ns: Option<&str>, obj: serde_json::Value) {
        let def = store.registry().find(group, "v1", plural);
        let r = def.map(|d| store.create(&d, ns, obj, &WriteOptions::default()));
        assert!(matches!(r, Some(Ok(_))), "{r:?}");
    }

    fn headers(token: &str, extra: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
            h.insert(http::header::AUTHORIZATION, v);
        }
        for (k, v) in extra {
            if let Ok(v) = http::HeaderValue::from_str(v) {
                h.append(*k, v);
            }
        }
        h
    }

    #[test]
    fn tokens_roles_and_the_cache_follow_the_store() {
        let store = Store::new(Registry::default(), 100);
        bootstrap::ensure(&store);
        let authz = Authorizer::new("admin-secret");
        put(
            &store,
            "",
            "serviceaccounts",
            Some("default"),
            json!({"metadata": {"name": "r"}}),
        );
        let issuer = TokenIssuer::new(store.clone(), "admin-secret");
        let token = issuer
            .for_service_account("default", "r", None)
            .unwrap_or_default();
        let get = |t: &str| {
            authz.admit(
                &store,
                &headers(t, &[]),
                "GET",
                "/api/v1/namespaces/default/configmaps/x",
                false,
            )
        };
        assert!(matches!(get("wrong"), Err(Refusal::Unauthorized)));
        assert!(matches!(get(""), Err(Refusal::Unauthorized)));
        assert!(get("admin-secret").is_ok());
        // A token signed under another lab's admin token is not this lab's.
        let foreign = TokenIssuer::new(store.clone(), "other")
            .for_service_account("default", "r", None)
            .unwrap_or_default();
        assert!(matches!(get(&foreign), Err(Refusal::Unauthorized)));
        assert!(matches!(get(&token), Err(Refusal::Forbidden(_))));
        put(
            &store,
            "rbac.authorization.k8s.io",
            "rolebindings",
            Some("default"),
            json!({
            "metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "r", "namespace": "default"}]}),
        );
        // The aggregated `view` role covers configmaps; allowed twice (the second from the cache).
        assert_eq!(
            get(&token).ok().map(|u| u.name),
            Some("system:serviceaccount:default:r".into())
        );
        assert!(get(&token).is_ok());
        let rb = store
            .registry()
            .find("rbac.authorization.k8s.io", "v1", "rolebindings");
        let deleted = rb.map(|d| store.delete(&d, Some("default"), "rb", &Default::default()));
        assert!(matches!(deleted, Some(Ok(_))));
        assert!(
            matches!(get(&token), Err(Refusal::Forbidden(_))),
            "cache emptied by the delete"
        );
        let sa = store.registry().find("", "v1", "serviceaccounts");
        let _ = sa.map(|d| store.delete(&d, Some("default"), "r", &Default::default()));
        assert!(
            matches!(get(&token), Err(Refusal::Unauthorized)),
            "ServiceAccount gone"
        );
    }

    #[test]
    fn impersonation_needs_the_impersonate_verb() {
        let store = Store::new(Registry::default(), 100);
        bootstrap::ensure(&store);
        let authz = Authorizer::new("admin-secret");
        put(
            &store,
            "",
            "serviceaccounts",
            Some("default"),
            json!({"metadata": {"name": "r"}}),
        );
        let token = TokenIssuer::new(store.clone(), "admin-secret")
            .for_service_account("default", "r", None)
            .unwrap_or_default();
        let as_sa = [("impersonate-user", "system:serviceaccount:default:r")];
        let whoami = |t: &str, h: &[(&'static str, &str)]| {
            authz.admit(
                &store,
                &headers(t, h),
                "POST",
                "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                false,
            )
        };
        let user = whoami("admin-secret", &as_sa).ok();
        assert_eq!(
            user.map(|u| u.groups),
            Some(vec![
                "system:serviceaccounts".to_string(),
                "system:serviceaccounts:default".to_string(),
                "system:authenticated".to_string()
            ])
        );
        let refused = whoami(&token, &[("impersonate-user", "lab-admin")]);
        let Err(Refusal::Forbidden(status)) = refused else {
            unreachable!("{refused:?}")
        };
        assert_eq!(
            status["message"],
            "users \"lab-admin\" is forbidden: User \"system:serviceaccount:default:r\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
        );
        assert!(matches!(
            whoami("admin-secret", &[("impersonate-group", "g")]),
            Err(Refusal::BadRequest(_))
        ));
    }
}
