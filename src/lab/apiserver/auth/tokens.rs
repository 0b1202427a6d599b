//! ServiceAccount tokens: JWTs (header, claims, signature, each base64url) carrying the
//! claims of a real cluster's bound tokens (`sub`, and `kubernetes.io` with the namespace,
//! the ServiceAccount and the pod they are bound to), signed with HMAC-SHA256 under a key the
//! server keeps in its state directory. A token is valid while its signature checks and the
//! ServiceAccount (and the pod, for a bound token) still exist with the same uid.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use serde_json::{json, Value};

use super::super::store::View;
use crate::lab::apiserver::admission::UserInfo;

/// The issuer claim, as a real cluster's default.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

const SERVICE_ACCOUNTS: &str = "/v1/serviceaccounts";
const PODS: &str = "/v1/pods";

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub namespace: String,
    pub service_account: String,
    pub service_account_uid: String,
    /// The pod (name, uid) the token is bound to, if any.
    pub pod: Option<(String, String)>,
    /// When the token stops being valid (seconds since the epoch); `None` never.
    pub expires: Option<i64>,
}

/// Signs and checks ServiceAccount tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenKey {
    key: hmac::Key,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from 32 secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        TokenKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A token for this binding.
    pub fn mint(&self, b: &Binding) -> String {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let mut k8s = json!({
            "namespace": b.namespace,
            "serviceaccount": {"name": b.service_account, "uid": b.service_account_uid},
        });
        if let Some((name, uid)) = &b.pod {
            k8s["pod"] = json!({"name": name, "uid": uid});
        }
        let mut claims = json!({
            "iss": ISSUER,
            "aud": [ISSUER],
            "sub": super::rbac::service_account_user(&b.namespace, &b.service_account),
            "kubernetes.io": k8s,
        });
        if let Some(exp) = b.expires {
            claims["exp"] = json!(exp);
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// The binding of a token whose signature checks (constant-time) and that has not
    /// expired at `now` (seconds since the epoch), else `None`.
    pub fn verify(&self, token: &str, now: i64) -> Option<Binding> {
        let (signing_input, sig) = token.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        hmac::verify(&self.key, signing_input.as_bytes(), &sig).ok()?;
        let (_, claims) = signing_input.split_once('.')?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?;
        let expires = claims["exp"].as_i64();
        if expires.is_some_and(|exp| now >= exp) {
            return None;
        }
        let k8s = &claims["kubernetes.io"];
        let text = |v: &Value| v.as_str().map(String::from);
        let pod = match (text(&k8s["pod"]["name"]), text(&k8s["pod"]["uid"])) {
            (Some(n), Some(u)) => Some((n, u)),
            _ => None,
        };
        Some(Binding {
            namespace: text(&k8s["namespace"])?,
            service_account: text(&k8s["serviceaccount"]["name"])?,
            service_account_uid: text(&k8s["serviceaccount"]["uid"]).unwrap_or_default(),
            pod,
            expires,
        })
    }
}

impl Binding {
    /// The user this binding authenticates as, if the objects it names still exist.
    pub fn user(&self, view: &View<'_>) -> Option<UserInfo> {
        let sa = view.get(SERVICE_ACCOUNTS, &self.namespace, &self.service_account)?;
        let uid = sa["metadata"]["uid"].as_str().unwrap_or_default();
        if !self.service_account_uid.is_empty() && uid != self.service_account_uid {
            return None;
        }
        if let Some((pod, pod_uid)) = &self.pod {
            let p = view.get(PODS, &self.namespace, pod)?;
            if p["metadata"]["uid"].as_str() != Some(pod_uid.as_str()) {
                return None;
            }
        }
        Some(UserInfo {
            name: super::rbac::service_account_user(&self.namespace, &self.service_account),
            groups: service_account_groups(&self.namespace),
        })
    }
}

/// The groups every ServiceAccount is in.
pub fn service_account_groups(ns: &str) -> Vec<String> {
    vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{ns}"),
        "system:authenticated".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_tampered_ones_do_not() {
        let key = TokenKey::new(&[7; 32]);
        let b = Binding {
            namespace: "metallb-system".into(),
            service_account: "controller".into(),
            service_account_uid: "u1".into(),
            pod: Some(("controller-abc".into(), "p1".into())),
            expires: Some(1000),
        };
        let t = key.mint(&b);
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(key.verify(&t, 999), Some(b.clone()));
        assert_eq!(key.verify(&t, 1000), None, "expired");
        assert_eq!(TokenKey::new(&[8; 32]).verify(&t, 0), None, "other key");
        let mut forged = t.clone();
        forged.replace_range(t.len() - 3.., "AAA");
        assert_eq!(key.verify(&forged, 0), None);
        // Swapping the claims for another ServiceAccount's breaks the signature.
        let other = key.mint(&Binding {
            service_account: "speaker".into(),
            ..b
        });
        let mut parts: Vec<&str> = t.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap_or_default();
        assert_eq!(key.verify(&parts.join("."), 0), None);
        assert_eq!(key.verify("not-a-token", 0), None);
    }
}
