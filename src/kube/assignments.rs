//! Read what the dry run needs from a cluster: the running MetalLB ConfigMap's `data.config` and
//! every Service in all namespaces (all types are kept: [`crate::alloc::dryrun()`] counts and skips
//! the ones that are not `LoadBalancer`). Services are listed in pages of [`PAGE_SIZE`].

use std::path::Path;

use ::kube::api::{Api, DynamicObject, ListParams};
use ::kube::core::GroupVersionKind;
use ::kube::discovery::ApiResource;
use ::kube::Client;
use k8s_openapi::api::core::v1::{ConfigMap, Service};

use super::{request_error, KubeError};
use crate::alloc::ServiceInfo;

/// Services per list request.
pub const PAGE_SIZE: u32 = 500;

/// What the cluster runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterState {
    /// The ConfigMap's `data.config`, or `None` when the ConfigMap or the key is absent.
    pub running_config: Option<String>,
    /// The IPAddressPools (`metallb.io/v1beta1`) in the ConfigMap's namespace, as JSON objects
    /// in the server's order; `None` when the server does not serve the kind (no CRDs) or the
    /// user may not list it.
    pub running_pools: Option<Vec<serde_json::Value>>,
    /// Every Service in every namespace, in the server's order.
    pub services: Vec<ServiceInfo>,
}

/// Read the ConfigMap `configmap_ns/configmap_name` and list all Services.
pub async fn fetch(
    client: Client,
    configmap_ns: &str,
    configmap_name: &str,
) -> Result<ClusterState, KubeError> {
    fetch_at(client, "", configmap_ns, configmap_name).await
}

/// [`fetch`] from the cluster `context` in `kubeconfig` (rules as in [`super::config`]); errors
/// name the server URL.
pub async fn fetch_from(
    context: Option<&str>,
    kubeconfig: Option<&Path>,
    configmap_ns: &str,
    configmap_name: &str,
) -> Result<ClusterState, KubeError> {
    let (client, server) = super::connect(context, kubeconfig).await?;
    fetch_at(client, &server, configmap_ns, configmap_name).await
}

pub(crate) async fn fetch_at(
    client: Client,
    server: &str,
    configmap_ns: &str,
    configmap_name: &str,
) -> Result<ClusterState, KubeError> {
    let server = server.to_string();

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), configmap_ns);
    let cm = cms.get_opt(configmap_name).await.map_err(|e| {
        request_error(
            &server,
            &format!("get configmap {configmap_ns}/{configmap_name}"),
            e,
        )
    })?;
    let running_config = cm
        .and_then(|cm| cm.data)
        .and_then(|mut d| d.remove("config"));

    let running_pools = ip_address_pools(client.clone(), &server, configmap_ns).await?;

    let svcs: Api<Service> = Api::all(client);
    let mut services = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        if let Some(t) = token.as_deref() {
            lp = lp.continue_token(t);
        }
        let page = svcs
            .list(&lp)
            .await
            .map_err(|e| request_error(&server, "list services in all namespaces", e))?;
        for svc in page.items {
            let index = services.len();
            let info = service_info(&svc).map_err(|mut source| {
                source.item = Some(index);
                KubeError::BadService {
                    server: server.clone(),
                    source,
                }
            })?;
            services.push(info);
        }
        match page.metadata.continue_ {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    Ok(ClusterState {
        running_config,
        running_pools,
        services,
    })
}

/// The IPAddressPools in `namespace`, or `None` when the kind is not served (404) or the user
/// may not list it (403).
async fn ip_address_pools(
    client: Client,
    server: &str,
    namespace: &str,
) -> Result<Option<Vec<serde_json::Value>>, KubeError> {
    let gvk = GroupVersionKind::gvk("metallb.io", "v1beta1", "IPAddressPool");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "ipaddresspools");
    let api: Api<DynamicObject> = Api::namespaced_with(client, namespace, &ar);
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(Some(
            list.items
                .iter()
                .map(|o| serde_json::to_value(o).unwrap_or(serde_json::Value::Null))
                .collect(),
        )),
        // Not served (no CRDs), or not readable: the running pools only tell which services
        // move pool (MLB101), so the dry run goes on without them rather than fail a
        // ConfigMap-only check.
        Err(::kube::Error::Api(s)) if s.code == 404 || s.code == 403 => Ok(None),
        Err(e) => Err(request_error(
            server,
            &format!("list ipaddresspools in {namespace}"),
            e,
        )),
    }
}

/// [`fetch_from`] on a private single-threaded runtime: for callers
/// without one.
pub fn fetch_blocking(
    context: Option<&str>,
    kubeconfig: Option<&Path>,
    configmap_ns: &str,
    configmap_name: &str,
) -> Result<ClusterState, KubeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(KubeError::Runtime)?;
    rt.block_on(fetch_from(
        context,
        kubeconfig,
        configmap_ns,
        configmap_name,
    ))
}

fn service_info(svc: &Service) -> Result<ServiceInfo, crate::alloc::ServiceParseError> {
    let value = serde_json::to_value(svc).unwrap_or(serde_json::Value::Null);
    ServiceInfo::from_json(&value)
}
