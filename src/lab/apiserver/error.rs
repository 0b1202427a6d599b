//! API errors as values, and their rendering as Kubernetes `Status` objects. Messages follow
//! the real API server's wording because kubectl prints them verbatim
//! (`Error from server (NotFound): services "nginx" not found`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Everything a request can fail with. Each variant maps to one HTTP code and `reason`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The object (or resource type) does not exist.
    #[error("{qualified} \"{name}\" not found")]
    NotFound { qualified: String, name: String },
    /// A create found an object with the same name.
    #[error("{qualified} \"{name}\" already exists")]
    AlreadyExists { qualified: String, name: String },
    /// An update carried a stale `metadata.resourceVersion`.
    #[error("Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again")]
    Conflict { qualified: String, name: String },
    /// The object failed validation.
    #[error("{kind} \"{name}\" is invalid: {causes}")]
    Invalid {
        kind: String,
        name: String,
        causes: String,
    },
    /// The request could not be understood (bad body, bad selector, bad patch).
    #[error("{0}")]
    BadRequest(String),
    /// The request URL names no known API path.
    #[error("the server could not find the requested resource")]
    NoRoute,
    /// The verb is not supported on this path.
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    /// The body's media type is not one this server understands.
    #[error(
        "the body of the request was in an unknown format - accepted media types include: {0}"
    )]
    UnsupportedMediaType(String),
    /// A body in a known media type whose kind this server cannot decode (protobuf of a kind
    /// whose layout the lab does not have); the message names the kind.
    #[error("{0}")]
    UnsupportedKind(String),
    /// The request is understood but not allowed (e.g. content in a terminating namespace).
    #[error("{0}")]
    Forbidden(String),
    /// Missing or wrong bearer token.
    #[error("Unauthorized")]
    Unauthorized,
    /// The request body is larger than the server accepts.
    #[error("Request entity too large: limit is {0}")]
    TooLarge(usize),
    /// A watch asked for history the server no longer has.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    /// The lab does not do this (yet); the message names the limit and what to use instead.
    #[error("{0}")]
    NotSupported(String),
    /// Something went wrong inside the server (never the client's fault).
    #[error("Internal error occurred: {0}")]
    Internal(String),
}

impl ApiError {
    /// Not found for a resource, named by its plural (and group) as kubectl prints it.
    pub fn not_found(qualified: &str, name: &str) -> Self {
        ApiError::NotFound {
            qualified: qualified.to_string(),
            name: name.to_string(),
        }
    }

    /// The HTTP status code of this error.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } | ApiError::NoRoute => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::MethodNotAllowed | ApiError::NotSupported(_) => 405,
            ApiError::UnsupportedMediaType(_) | ApiError::UnsupportedKind(_) => 415,
            ApiError::Unauthorized => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::TooLarge(_) => 413,
            ApiError::Expired { .. } => 410,
            ApiError::Internal(_) => 500,
        }
    }

    /// The machine-readable `reason` of the Status object.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::NoRoute => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::MethodNotAllowed | ApiError::NotSupported(_) => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) | ApiError::UnsupportedKind(_) => {
                "UnsupportedMediaType"
            }
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::TooLarge(_) => "RequestEntityTooLarge",
            ApiError::Expired { .. } => "Expired",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// The `details` block: name and plural kind where known.
    fn details(&self) -> Option<Value> {
        match self {
            ApiError::NotFound { qualified, name }
            | ApiError::AlreadyExists { qualified, name }
            | ApiError::Conflict { qualified, name } => {
                let (kind, group) = qualified.split_once('.').unwrap_or((qualified, ""));
                Some(json!({"name": name, "group": group, "kind": kind}))
            }
            ApiError::Invalid { kind, name, causes } => {
                let (field, message) = causes.split_once(": ").unwrap_or(("", causes));
                let reason = if message.starts_with("Required value") {
                    "FieldValueRequired"
                } else {
                    "FieldValueInvalid"
                };
                let cause = json!({"reason": reason, "message": message, "field": field});
                Some(json!({"name": name, "kind": kind, "causes": [cause]}))
            }
            _ => None,
        }
    }

    /// This error as a Kubernetes `Status` object.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        if let (Some(details), Some(map)) = (self.details(), status.as_object_mut()) {
            map.insert("details".into(), details);
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.status()).unwrap_or_default();
        (code, [("content-type", "application/json")], body).into_response()
    }
}
