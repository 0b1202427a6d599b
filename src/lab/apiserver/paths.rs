//! Resource URL parsing: `/api/v1/...` and `/apis/{group}/{version}/...` into a collection or
//! an object (with an optional subresource) of a registered resource.

use super::error::ApiError;
use super::resources::{Registry, ResourceDef};
use super::scale;

/// What a resource URL addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A list/watch/create endpoint; `namespace` is `None` for cluster-wide.
    Collection {
        def: ResourceDef,
        namespace: Option<String>,
    },
    /// One object, or its subresource.
    Object {
        def: ResourceDef,
        namespace: Option<String>,
        name: String,
        sub: Option<String>,
    },
}

/// Split the group/version prefix off a path.
fn group_version(path: &str) -> Option<(&str, &str, Vec<&str>)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", version, rest @ ..] => Some(("", version, rest.to_vec())),
        ["apis", group, version, rest @ ..] => Some((group, version, rest.to_vec())),
        _ => None,
    }
}

/// Parse a resource path.
pub fn parse(registry: &Registry, path: &str) -> Result<Target, ApiError> {
    let (group, version, segs) = group_version(path).ok_or(ApiError::NoRoute)?;
    let find = |plural: &str| {
        registry
            .find(group, version, plural)
            .ok_or(ApiError::NoRoute)
    };
    let owned = |s: &str| s.to_string();
    let target = match segs.as_slice() {
        ["namespaces", ns, plural] if *plural != "status" && *plural != "finalize" => {
            Target::Collection {
                def: find(plural)?,
                namespace: Some(owned(ns)),
            }
        }
        ["namespaces", ns, plural, name] => Target::Object {
            def: find(plural)?,
            namespace: Some(owned(ns)),
            name: owned(name),
            sub: None,
        },
        ["namespaces", ns, plural, name, sub] => Target::Object {
            def: find(plural)?,
            namespace: Some(owned(ns)),
            name: owned(name),
            sub: Some(owned(sub)),
        },
        [plural] => Target::Collection {
            def: find(plural)?,
            namespace: None,
        },
        [plural, name] => Target::Object {
            def: find(plural)?,
            namespace: None,
            name: owned(name),
            sub: None,
        },
        [plural, name, sub] => Target::Object {
            def: find(plural)?,
            namespace: None,
            name: owned(name),
            sub: Some(owned(sub)),
        },
        _ => return Err(ApiError::NoRoute),
    };
    check_scope(target)
}

/// Namespaced objects need a namespace in the URL; cluster-scoped ones must not have one.
fn check_scope(target: Target) -> Result<Target, ApiError> {
    match &target {
        Target::Object { def, namespace, .. } if def.namespaced != namespace.is_some() => {
            Err(ApiError::NoRoute)
        }
        Target::Collection {
            def,
            namespace: Some(_),
        } if !def.namespaced => Err(ApiError::NoRoute),
        Target::Object {
            def,
            sub: Some(sub),
            ..
        } if !(sub == "status" && def.status
            || sub == "log" && def.log
            || sub == "scale" && scale::has_scale(def)) =>
        {
            Err(ApiError::NoRoute)
        }
        _ => Ok(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes() {
        let r = Registry::default();
        let t = parse(&r, "/api/v1/namespaces/default/services/nginx/status");
        assert!(matches!(t, Ok(Target::Object { sub: Some(ref s), .. }) if s == "status"));
        assert!(
            matches!(parse(&r, "/api/v1/namespaces/x/status"), Ok(Target::Object { ref name, .. }) if name == "x")
        );
        assert!(matches!(
            parse(&r, "/apis/apps/v1/deployments"),
            Ok(Target::Collection {
                namespace: None,
                ..
            })
        ));
        assert!(parse(&r, "/api/v1/services/nginx").is_err());
        assert!(parse(&r, "/apis/nope/v1/things").is_err());
        assert!(parse(&r, "/api/v1/namespaces/default/configmaps/c/log").is_err());
    }
}
