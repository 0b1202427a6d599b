//! What a request asks to do, in the RBAC authorizer's terms (the real server's
//! `RequestInfo`): a verb on a resource (group, resource, subresource, namespace, name) or on a
//! non-resource path. Parsed from the method, path and query alone, before routing, so an
//! unknown resource is refused (403) before it is found missing (404), as on a real server.

/// The attributes of one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attributes {
    pub verb: String,
    pub target: Target,
}

/// What the verb applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Resource(ResourceAttributes),
    /// A path outside the resource tree (`/api`, `/version`, `/openapi/v3`, ...).
    NonResource(String),
}

/// A resource request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResourceAttributes {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    /// "" at the cluster scope.
    pub namespace: String,
    /// "" for collections.
    pub name: String,
}

impl ResourceAttributes {
    /// `resource` or `resource/subresource`, as RBAC rules and messages name it.
    pub fn combined(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// Pod subresources that open a stream; the real server authorizes them as `create`.
const STREAMING: &[&str] = &["exec", "attach", "portforward"];

/// The attributes of a request with this method, path and "is this a watch" flag.
pub fn of_request(method: &str, path: &str, watch: bool) -> Attributes {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let rest = match segs.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => Some(("", *version, rest)),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => Some((*group, *version, rest)),
        _ => None,
    };
    let Some((group, version, rest)) = rest else {
        return Attributes {
            verb: method.to_ascii_lowercase(),
            target: Target::NonResource(path.to_string()),
        };
    };
    let mut r = ResourceAttributes {
        group: group.into(),
        version: version.into(),
        ..ResourceAttributes::default()
    };
    let mut parts: &[&str] = rest;
    // `namespaces/{ns}/...` scopes the request, except `namespaces/{ns}` itself (and its
    // subresources), which is the namespace object.
    if let ["namespaces", ns, more @ ..] = parts {
        r.namespace = (*ns).into();
        if more.is_empty() || matches!(more, ["status" | "finalize"]) {
            r.resource = "namespaces".into();
            r.name = (*ns).into();
            r.subresource = more.first().map(|s| s.to_string()).unwrap_or_default();
            parts = &[];
        } else {
            parts = more;
        }
    }
    if !parts.is_empty() {
        r.resource = parts[0].into();
        r.name = parts.get(1).map(|s| s.to_string()).unwrap_or_default();
        // `pods/{name}/proxy/{path...}`: the subresource is the first segment only.
        r.subresource = parts.get(2).map(|s| s.to_string()).unwrap_or_default();
    }
    let verb = if STREAMING.contains(&r.subresource.as_str()) && r.resource == "pods" {
        "create"
    } else {
        match (method, r.name.is_empty()) {
            ("GET" | "HEAD", true) if watch => "watch",
            ("GET" | "HEAD", true) => "list",
            ("GET" | "HEAD", false) if watch => "watch",
            ("GET" | "HEAD", false) => "get",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", true) => "deletecollection",
            ("DELETE", false) => "delete",
            (other, _) => return verbatim(other, r),
        }
    };
    Attributes {
        verb: verb.into(),
        target: Target::Resource(r),
    }
}

fn verbatim(method: &str, r: ResourceAttributes) -> Attributes {
    Attributes {
        verb: method.to_ascii_lowercase(),
        target: Target::Resource(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(method: &str, path: &str, watch: bool) -> (String, ResourceAttributes) {
        let a = of_request(method, path, watch);
        match a.target {
            Target::Resource(r) => (a.verb, r),
            Target::NonResource(p) => unreachable!("{p} is a resource path"),
        }
    }

    #[test]
    fn verbs_follow_method_scope_and_watch() {
        assert_eq!(res("GET", "/api/v1/services", false).0, "list");
        assert_eq!(res("GET", "/api/v1/services", true).0, "watch");
        let (verb, r) = res("GET", "/api/v1/namespaces/default/services/nginx", false);
        assert_eq!(verb, "get");
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str()),
            ("default", "nginx")
        );
        assert_eq!(
            res("DELETE", "/apis/apps/v1/namespaces/x/deployments", false).0,
            "deletecollection"
        );
        assert_eq!(
            res("PATCH", "/apis/apps/v1/namespaces/x/deployments/d", false).0,
            "patch"
        );
        let (verb, r) = res(
            "PUT",
            "/api/v1/namespaces/default/services/nginx/status",
            false,
        );
        assert_eq!(
            (verb.as_str(), r.combined().as_str()),
            ("update", "services/status")
        );
        let (verb, r) = res("GET", "/api/v1/namespaces/ms/pods/router/exec", false);
        assert_eq!(
            (verb.as_str(), r.combined().as_str()),
            ("create", "pods/exec")
        );
        let (_, r) = res("GET", "/api/v1/namespaces/ms/pods/p/proxy/metrics/x", false);
        assert_eq!(r.combined(), "pods/proxy");
    }

    #[test]
    fn namespaces_are_their_own_objects() {
        let (verb, r) = res("GET", "/api/v1/namespaces/kube-system", false);
        assert_eq!(verb, "get");
        assert_eq!(
            (r.resource.as_str(), r.name.as_str()),
            ("namespaces", "kube-system")
        );
        assert_eq!(r.namespace, "kube-system");
        let (_, r) = res("PUT", "/api/v1/namespaces/x/finalize", false);
        assert_eq!(r.combined(), "namespaces/finalize");
        let (verb, r) = res("GET", "/api/v1/namespaces", false);
        assert_eq!((verb.as_str(), r.namespace.as_str()), ("list", ""));
    }

    #[test]
    fn discovery_and_health_are_non_resource() {
        for p in [
            "/api",
            "/apis",
            "/api/v1",
            "/apis/apps/v1",
            "/version",
            "/openapi/v3",
        ] {
            let a = of_request("GET", p, false);
            assert_eq!(a.target, Target::NonResource(p.into()), "{p}");
            assert_eq!(a.verb, "get");
        }
    }
}
