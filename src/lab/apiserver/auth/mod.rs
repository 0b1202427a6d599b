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
    if is_admin_token(token, admin_token) {
        return Some(UserInfo::token_holder());
    }
    if token.matches('.').count() != 2 {
        return None;
    }
    let binding = token_key(admin_token).verify(token, jiff::Timestamp::now().as_second())?;
    store.read(|v| binding.user(v)).ok().flatten()
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

/// Authenticate, impersonate and authorize one request. On success, the user it acts as.
pub fn admit_request(
    store: &Store,
    admin_token: &str,
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
    let user = authenticate(store, admin_token, token).ok_or(Refusal::Unauthorized)?;
    let a = attributes::of_request(method, path, watch);
    let imp = Impersonation::from_headers(headers);
    store
        .read(|view| {
            let user = match &imp {
                Some(imp) => impersonate(view, &user, imp)?,
                None => user,
            };
            check(view, &user, &a)?;
            Ok(user)
        })
        .map_err(|e| Refusal::BadRequest(e.to_string()))?
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
