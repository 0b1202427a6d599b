//! The review APIs, answered from the same RBAC evaluation that guards every request, so
//! `kubectl auth can-i` always agrees with what the server does:
//!
//! | resource                                   | answers                                    |
//! |--------------------------------------------|--------------------------------------------|
//! | `authorization.k8s.io` selfsubjectaccessreviews | may I do this?                        |
//! | `authorization.k8s.io` selfsubjectrulesreviews  | what may I do in this namespace? (`can-i --list`) |
//! | `authorization.k8s.io` subjectaccessreviews     | may this user do this?                |
//! | `authorization.k8s.io` localsubjectaccessreviews | the same, in a namespace             |
//! | `authentication.k8s.io` selfsubjectreviews      | who am I? (`auth whoami`)             |
//!
//! The caller's permission to create the review itself was checked in front of the handler.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::attributes::{Attributes, ResourceAttributes, Target};
use super::{allowed, rbac, user_info_json};
use crate::lab::apiserver::admission::UserInfo;
use crate::lab::apiserver::body;
use crate::lab::apiserver::error::ApiError;
use crate::lab::apiserver::rest::{json_response, App};

/// The review routes.
pub fn routes() -> Router<App> {
    const AUTHZ: &str = "/apis/authorization.k8s.io/v1";
    Router::new()
        .route(
            &format!("{AUTHZ}/selfsubjectaccessreviews"),
            post(self_subject_access_review),
        )
        .route(
            &format!("{AUTHZ}/selfsubjectrulesreviews"),
            post(self_subject_rules_review),
        )
        .route(
            &format!("{AUTHZ}/subjectaccessreviews"),
            post(subject_access_review),
        )
        .route(
            &format!("{AUTHZ}/namespaces/{{ns}}/localsubjectaccessreviews"),
            post(local_subject_access_review),
        )
        .route(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            post(self_subject_review),
        )
        .route(
            "/api/v1/namespaces/{ns}/serviceaccounts/{name}/token",
            post(token_request),
        )
}

/// TokenRequest (`kubectl create token NAME`): a token for the ServiceAccount, valid for
/// `spec.expirationSeconds` (default 3600; at least 600, as the real server requires).
async fn token_request(
    State(app): State<App>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    run((|| {
        let ct = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json");
        // kubectl sends protobuf; the lab reads only JSON specs and otherwise uses the
        // defaults (the audience is the API server's in every case).
        let spec = if ct.contains("protobuf") || bytes.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            body::decode(&bytes, ct)?["spec"].clone()
        };
        let seconds = spec["expirationSeconds"].as_i64().unwrap_or(3600);
        if seconds < 600 {
            return Err(ApiError::Invalid {
                kind: "TokenRequest.authentication.k8s.io".into(),
                name: name.clone(),
                causes: format!(
                    "spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes"
                ),
            });
        }
        let now = jiff::Timestamp::now().as_second();
        let expires = now.saturating_add(seconds);
        let token = super::TokenIssuer::new(app.store.clone(), &app.token)
            .for_service_account(&ns, &name, Some(expires))
            .map_err(|_| ApiError::not_found("serviceaccounts", &name))?;
        let at = jiff::Timestamp::from_second(expires)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let out = json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": null},
            "spec": {"audiences": [super::tokens::ISSUER], "expirationSeconds": seconds, "boundObjectRef": null},
            "status": {"token": token, "expirationTimestamp": at},
        });
        Ok(json_response(StatusCode::CREATED, &out))
    })())
}

fn decode(headers: &HeaderMap, bytes: &Bytes) -> Result<Value, ApiError> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if ct.contains("protobuf") {
        return super::proto::decode_review(bytes);
    }
    body::decode(bytes, ct)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The attributes a review's `spec` asks about.
pub fn spec_attributes(spec: &Value) -> Result<Attributes, ApiError> {
    let r = &spec["resourceAttributes"];
    let n = &spec["nonResourceAttributes"];
    if r.is_object() {
        return Ok(Attributes {
            verb: text(&r["verb"]),
            target: Target::Resource(ResourceAttributes {
                group: text(&r["group"]),
                version: text(&r["version"]),
                resource: text(&r["resource"]),
                subresource: text(&r["subresource"]),
                namespace: text(&r["namespace"]),
                name: text(&r["name"]),
            }),
        });
    }
    if n.is_object() {
        return Ok(Attributes {
            verb: text(&n["verb"]),
            target: Target::NonResource(text(&n["path"])),
        });
    }
    Err(ApiError::Invalid {
        kind: "SelfSubjectAccessReview.authorization.k8s.io".into(),
        name: String::new(),
        causes: "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
    })
}

/// The review object sent back: the request with `status` set and server metadata.
fn answer(mut review: Value, kind: &str, api_version: &str, status: Value) -> Response {
    review["kind"] = json!(kind);
    review["apiVersion"] = json!(api_version);
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = status;
    json_response(StatusCode::CREATED, &review)
}

fn access_status(app: &App, user: &UserInfo, a: &Attributes) -> Result<Value, ApiError> {
    let d = app.store.read(|v| allowed(v, user, a))?;
    let mut status = json!({"allowed": d.allowed});
    if d.allowed && user.groups.iter().any(|g| g == super::MASTERS) {
        status["reason"] = json!("");
    } else if d.allowed {
        status["reason"] = json!("RBAC: allowed by the lab's RBAC authorizer");
    } else if !d.reason.is_empty() {
        status["reason"] = json!(d.reason);
    }
    Ok(status)
}

fn run(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn self_subject_access_review(
    State(app): State<App>,
    Extension(user): Extension<UserInfo>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    run((|| {
        let review = decode(&headers, &bytes)?;
        let a = spec_attributes(&review["spec"])?;
        let status = access_status(&app, &user, &a)?;
        Ok(answer(
            review,
            "SelfSubjectAccessReview",
            "authorization.k8s.io/v1",
            status,
        ))
    })())
}

/// The user a SubjectAccessReview names.
fn spec_user(spec: &Value) -> UserInfo {
    UserInfo {
        name: text(&spec["user"]),
        groups: spec["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(String::from))
            .collect(),
    }
}

async fn subject_access_review(
    State(app): State<App>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    run((|| {
        let review = decode(&headers, &bytes)?;
        let a = spec_attributes(&review["spec"])?;
        let status = access_status(&app, &spec_user(&review["spec"]), &a)?;
        Ok(answer(
            review,
            "SubjectAccessReview",
            "authorization.k8s.io/v1",
            status,
        ))
    })())
}

async fn local_subject_access_review(
    State(app): State<App>,
    Path(ns): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    run((|| {
        let review = decode(&headers, &bytes)?;
        let mut a = spec_attributes(&review["spec"])?;
        match &mut a.target {
            Target::Resource(r) if r.namespace.is_empty() || r.namespace == ns => {
                r.namespace = ns.clone();
            }
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "spec.resourceAttributes.namespace must match the namespace {ns}"
                )))
            }
        }
        let status = access_status(&app, &spec_user(&review["spec"]), &a)?;
        Ok(answer(
            review,
            "LocalSubjectAccessReview",
            "authorization.k8s.io/v1",
            status,
        ))
    })())
}

async fn self_subject_rules_review(
    State(app): State<App>,
    Extension(user): Extension<UserInfo>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    run((|| {
        let review = decode(&headers, &bytes)?;
        let ns = text(&review["spec"]["namespace"]);
        let (resource, non_resource) = app.store.read(|v| rbac::rules_for(v, &user, &ns))?;
        let status = json!({
            "resourceRules": resource,
            "nonResourceRules": non_resource,
            "incomplete": false,
        });
        Ok(answer(
            review,
            "SelfSubjectRulesReview",
            "authorization.k8s.io/v1",
            status,
        ))
    })())
}

async fn self_subject_review(
    Extension(user): Extension<UserInfo>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    run((|| {
        let review = if bytes.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            decode(&headers, &bytes)?
        };
        Ok(answer(
            review,
            "SelfSubjectReview",
            "authentication.k8s.io/v1",
            json!({"userInfo": user_info_json(&user)}),
        ))
    })())
}
