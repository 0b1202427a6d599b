//! The HTTP layer: routes, bearer-token authentication and thin handlers that parse a
//! request, call the store and render the answer (object, List, Table, watch stream or Status).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};

use super::admission::UserInfo;
use super::body;
use super::discovery;
use super::error::ApiError;
use super::log_follow;
use super::meta;
use super::openapi;
use super::patch::{PatchKind, PatchRequest};
use super::paths::{self, Target};
use super::protobuf;
use super::query::{encode_continue, list_query, propagation, write_options, Params};
use super::resources::ResourceDef;
use super::scale;
use super::store::Propagation;
use super::store::{DeleteOptions, ListQuery, Store, Subresource, WriteOptions};
use super::tables;
use super::validation;
use super::watch::{self, WatchRequest};

/// Shared state of the HTTP layer.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub token: Arc<str>,
    pub max_body: usize,
    pub server_address: Arc<str>,
    /// Print one line per request to stderr.
    pub request_log: bool,
    /// The open watch streams.
    pub watchers: watch::Watchers,
}

/// The full router with authentication.
pub fn router(app: App) -> Router {
    router_with(app, Router::new())
}

/// The full router plus `extra` routes, which sit behind the same authentication and request
/// log as the API's own (the benchmark adds its baseline endpoint this way).
pub fn router_with(app: App, extra: Router<App>) -> Router {
    let log = app.request_log;
    let routes = Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route("/api", get(api_root))
        .route("/apis", get(apis_root))
        .route("/api/v1", get(core_resources))
        .route("/apis/{group}", get(group_doc))
        .route("/apis/{group}/{version}", get(group_version_resources))
        .route("/openapi/v3", get(openapi_root))
        .route("/openapi/v3/{*gv}", get(openapi_gv))
        // kubectl asks for v2 in its protobuf form only: 406, after which it uses its
        // compiled-in types (see docs/lab.md); JSON for everyone else.
        .route("/openapi/v2", get(openapi_v2))
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/proxy/{*path}",
            get(super::proxy::pod),
        )
        .route("/api/v1/namespaces/{ns}/pods/{name}/exec", any(pod_exec))
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/attach",
            any(pod_attach),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/portforward",
            any(pod_portforward),
        )
        .merge(super::auth::reviews::routes())
        .merge(extra)
        .fallback(resource)
        .layer(middleware::from_fn_with_state(
            (
                app.clone(),
                Arc::new(super::auth::Authorizer::new(&app.token)),
            ),
            authenticate,
        ))
        .with_state(app);
    if log {
        routes.layer(middleware::from_fn(log_request))
    } else {
        routes
    }
}

/// The request log: method, path and query, status, duration. Watches are logged when their
/// stream starts.
async fn log_request(req: Request, next: Next) -> Response {
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    eprintln!(
        "{method} {uri} {} {:?}",
        resp.status().as_u16(),
        start.elapsed()
    );
    resp
}

/// Everything but the public health and version endpoints needs a bearer token, and passes
/// impersonation and authorization (`super::auth`); handlers find the user in the extensions.
async fn authenticate(
    State((app, authz)): State<(App, Arc<super::auth::Authorizer>)>,
    mut req: Request,
    next: Next,
) -> Response {
    if super::auth::is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let watch = Params::parse(req.uri()).flag("watch");
    match authz.admit(
        &app.store,
        req.headers(),
        req.method().as_str(),
        req.uri().path(),
        watch,
    ) {
        Ok(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// A JSON response from a serializable value.
pub fn json_response(code: StatusCode, value: &Value) -> Response {
    json_with_type(code, value, "application/json")
}

fn json_with_type(code: StatusCode, value: &Value, content_type: &'static str) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (code, [(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// A `<Kind>List`, serialized straight from the shared objects.
fn list_response(def: &ResourceDef, metadata: &Value, items: &[Arc<Value>]) -> Response {
    let mut out = Vec::with_capacity(256 + items.len() * 512);
    let head = json!({"kind": format!("{}List", def.kind), "apiVersion": def.api_version(), "metadata": metadata});
    let written = serde_json::to_writer(&mut out, &head).and_then(|()| {
        out.pop();
        out.extend_from_slice(b",\"items\":[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, item.as_ref())?;
        }
        out.extend_from_slice(b"]}");
        Ok(())
    });
    match written {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            out,
        )
            .into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

fn accept(headers: &HeaderMap) -> &str {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
}

async fn version() -> Response {
    json_response(StatusCode::OK, &discovery::version())
}

async fn ok() -> &'static str {
    "ok"
}

async fn api_root(State(app): State<App>, headers: HeaderMap) -> Response {
    discovery_root(&app, &headers, true, || {
        discovery::api_versions(&app.server_address)
    })
}

async fn apis_root(State(app): State<App>, headers: HeaderMap) -> Response {
    discovery_root(&app, &headers, false, || {
        discovery::api_group_list(app.store.registry())
    })
}

/// `/api` (`core`) or `/apis`: the aggregated discovery document when the client asks for
/// it, else the `legacy` one.
fn discovery_root(
    app: &App,
    headers: &HeaderMap,
    core: bool,
    legacy: impl FnOnce() -> Value,
) -> Response {
    if discovery::wants_aggregated(accept(headers)) {
        let doc = discovery::aggregated(app.store.registry(), core);
        json_with_type(StatusCode::OK, &doc, discovery::AGGREGATED_CONTENT_TYPE)
    } else {
        json_response(StatusCode::OK, &legacy())
    }
}

async fn core_resources(State(app): State<App>) -> Response {
    found(discovery::api_resource_list(app.store.registry(), "", "v1"))
}

async fn group_doc(
    State(app): State<App>,
    axum::extract::Path(group): axum::extract::Path<String>,
) -> Response {
    found(discovery::api_group(app.store.registry(), &group))
}

async fn group_version_resources(
    State(app): State<App>,
    axum::extract::Path((group, version)): axum::extract::Path<(String, String)>,
) -> Response {
    found(discovery::api_resource_list(
        app.store.registry(),
        &group,
        &version,
    ))
}

async fn openapi_root(State(app): State<App>) -> Response {
    json_response(StatusCode::OK, &openapi::root(&app.store))
}

async fn openapi_gv(
    State(app): State<App>,
    axum::extract::Path(gv): axum::extract::Path<String>,
) -> Response {
    found(openapi::group_version(&app.store, &gv))
}

async fn openapi_v2(State(app): State<App>, headers: HeaderMap) -> Response {
    if openapi::v2_accepts_json(accept(&headers)) {
        json_response(StatusCode::OK, &openapi::v2(&app.store))
    } else {
        StatusCode::NOT_ACCEPTABLE.into_response()
    }
}

fn found(doc: Option<Value>) -> Response {
    match doc {
        Some(d) => json_response(StatusCode::OK, &d),
        None => ApiError::NoRoute.into_response(),
    }
}

/// Every resource URL: lists, watches, objects and subresources.
async fn resource(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match dispatch(&app, &method, &uri, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// `attach` on a pod: the lab has no container processes to attach to, so a Status that names
/// the limit and what to use instead.
async fn pod_attach(
    axum::extract::Path((ns, name)): axum::extract::Path<(String, String)>,
) -> Response {
    not_in_the_lab(&ns, &name, PodSession::Attach).into_response()
}

/// `exec` on a pod: run by the lab runtime's sessions when the server has them (see
/// `super::exec`), else the same Status as attach.
async fn pod_exec(
    State(app): State<App>,
    axum::extract::Path((ns, name)): axum::extract::Path<(String, String)>,
    req: Request,
) -> Response {
    let sessions = req.extensions().get::<super::exec::Sessions>().cloned();
    super::exec::handle(&app.store, sessions.as_ref(), &ns, &name, req).await
}

/// `portforward` on a pod: to the ports the lab runtime really listens on (see
/// `super::portforward`).
async fn pod_portforward(
    State(app): State<App>,
    axum::extract::Path((ns, name)): axum::extract::Path<(String, String)>,
    req: Request,
) -> Response {
    super::portforward::handle(&app.store, &ns, &name, req).await
}

/// What a client wanted of a pod whose containers the lab only simulates.
#[derive(Debug, Clone, Copy)]
pub(super) enum PodSession {
    Exec,
    Attach,
}

/// The refusal for a pod session the lab cannot run: its pods run no containers. kubectl
/// prints the Status message (`error: error upgrading connection: ...`), so it names the
/// limit and what to use instead.
pub(super) fn not_in_the_lab(namespace: &str, pod: &str, session: PodSession) -> ApiError {
    let verb = match session {
        PodSession::Exec => "run a command in",
        PodSession::Attach => "attach to",
    };
    ApiError::NotSupported(format!(
        "the metallbctl lab runs no containers, so pod {namespace}/{pod} has none to {verb}; read what it does with `metallbctl lab logs {pod}` (or `kubectl logs`) and see where it runs with `metallbctl lab status`"
    ))
}

async fn dispatch(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let target = paths::parse(app.store.registry(), uri.path())?;
    let (Target::Collection { def, .. } | Target::Object { def, .. }) = &target;
    if def.group == "apiregistration.k8s.io" && def.plural == "apiservices" {
        sync_api_services(app, def);
    }
    let params = Params::parse(uri);
    let bytes = body::read(body, app.max_body).await?;
    let req = Req {
        params: &params,
        headers,
        bytes: &bytes,
    };
    match (target, method.as_str()) {
        (Target::Collection { def, namespace }, "GET") => {
            list_or_watch(app, &def, namespace, &params, headers)
        }
        (Target::Collection { def, namespace }, "POST") => {
            create(app, &def, namespace.as_deref(), &req)
        }
        (Target::Collection { def, namespace }, "DELETE") => {
            delete_collection(app, &def, namespace, &params)
        }
        (
            Target::Object {
                def,
                namespace,
                name,
                sub,
            },
            verb,
        ) => {
            let obj = Named {
                def: &def,
                ns: namespace.as_deref(),
                name: &name,
            };
            match (sub.as_deref(), verb) {
                (Some("log"), "GET") => logs(app, &obj, &params),
                (Some("log"), _) => Err(ApiError::MethodNotAllowed),
                (Some("scale"), verb) => scale_subresource(app, &obj, verb, &req),
                (_, "GET") => get_one(app, &obj, headers),
                (sub, "PUT") => replace(app, &obj, subresource(sub), &req),
                (sub, "PATCH") => patch(app, &obj, subresource(sub), &req),
                (None, "DELETE") => delete(app, &obj, &req),
                _ => Err(ApiError::MethodNotAllowed),
            }
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// Bring the APIService objects in line with the served group/versions (CRDs come and go)
/// before a request reads or writes them.
fn sync_api_services(app: &App, def: &ResourceDef) {
    let want = discovery::api_services(app.store.registry(), &meta::now_rfc3339());
    let have = app
        .store
        .list(def, &ListQuery::default())
        .map(|p| p.items)
        .unwrap_or_default();
    let opts = WriteOptions::default();
    for w in &want {
        let name = meta::meta_str(w, "name");
        if !have.iter().any(|h| meta::meta_str(h, "name") == name) {
            let _ = app.store.create(def, None, w.clone(), &opts);
        }
    }
    for h in &have {
        let name = meta::meta_str(h, "name");
        let managed =
            !h["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"].is_null();
        if managed && !want.iter().any(|w| meta::meta_str(w, "name") == name) {
            let _ = app
                .store
                .delete(def, None, name, &delete_options(Propagation::Background));
        }
    }
}

/// One object the path names.
struct Named<'a> {
    def: &'a ResourceDef,
    ns: Option<&'a str>,
    name: &'a str,
}

/// What a write reads from the request besides its path: query, headers and body.
struct Req<'a> {
    params: &'a Params,
    headers: &'a HeaderMap,
    bytes: &'a Bytes,
}

impl Req<'_> {
    fn content_type(&self) -> &str {
        content_type(self.headers)
    }

    /// The body, decoded by its content type.
    fn body(&self) -> Result<Value, ApiError> {
        body::decode(self.bytes, self.content_type())
    }

    /// The body of a create or replace: an object of `kind`, or the real server's 400.
    fn object(&self, kind: &str) -> Result<Value, ApiError> {
        super::malformed::object_body(self.bytes, self.content_type(), kind)
    }
}

fn scale_subresource(app: &App, obj: &Named, verb: &str, req: &Req) -> Result<Response, ApiError> {
    let Named { def, ns, name } = *obj;
    let out = match verb {
        "GET" => scale::get(&app.store, def, ns, name)?,
        "PUT" | "PATCH" => {
            let kind = if verb == "PUT" {
                None
            } else {
                Some(PatchKind::from_content_type(req.content_type())?)
            };
            scale::update(&app.store, def, ns, name, kind, &req.body()?)?
        }
        _ => return Err(ApiError::MethodNotAllowed),
    };
    Ok(json_response(StatusCode::OK, &out))
}

fn subresource(sub: Option<&str>) -> Subresource {
    if sub == Some("status") {
        Subresource::Status
    } else {
        Subresource::Main
    }
}

fn list_or_watch(
    app: &App,
    def: &ResourceDef,
    namespace: Option<String>,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let query = list_query(namespace, params)?;
    if params.flag("watch") {
        return Ok(start_watch(app, def, query, params, headers));
    }
    let page = app.store.list(def, &query)?;
    let cont = page.next.as_ref().map(encode_continue);
    if tables::wants_table(accept(headers)) {
        let t = tables::table(
            def,
            page.items.iter().map(|o| o.as_ref()),
            page.resource_version,
            cont,
        );
        return Ok(json_response(StatusCode::OK, &t));
    }
    let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
    if let Some(c) = cont {
        metadata["continue"] = json!(c);
        metadata["remainingItemCount"] = json!(page.remaining);
    }
    Ok(list_response(def, &metadata, &page.items))
}

fn start_watch(
    app: &App,
    def: &ResourceDef,
    query: ListQuery,
    params: &Params,
    headers: &HeaderMap,
) -> Response {
    let since = params
        .get("resourceVersion")
        .and_then(|rv| rv.parse::<u64>().ok())
        .filter(|rv| *rv > 0);
    let send_initial = params.flag("sendInitialEvents");
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let req = WatchRequest {
        def: def.clone(),
        query,
        since: if send_initial { None } else { since },
        bookmarks: params.flag("allowWatchBookmarks"),
        initial_events_end: send_initial,
        timeout: Duration::from_secs(timeout.clamp(1, 3600)),
        table: tables::wants_table(accept(headers)),
    };
    let stream = watch::stream_registered(app.store.clone(), req, &app.watchers);
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

fn get_one(app: &App, obj: &Named, headers: &HeaderMap) -> Result<Response, ApiError> {
    let found = app.store.get(obj.def, obj.ns, obj.name)?;
    if tables::wants_table(accept(headers)) {
        let rv = app.store.resource_version();
        return Ok(json_response(
            StatusCode::OK,
            &tables::table(obj.def, std::iter::once(found.as_ref()), rv, None),
        ));
    }
    Ok(json_response(StatusCode::OK, &found))
}

fn create(app: &App, def: &ResourceDef, ns: Option<&str>, req: &Req) -> Result<Response, ApiError> {
    let options = write_options(req.params);
    let mut body = req.object(&def.kind)?;
    let warnings = validate_fields(app, def, req, &mut body)?;
    let created = app.store.create(def, ns, body, &options)?;
    Ok(with_warnings(
        json_response(StatusCode::CREATED, &created),
        &warnings,
    ))
}

/// Field validation of a write's body (`?fieldValidation=`, see [`validation`]): unknown fields
/// are refused (Strict) or dropped with warnings (Warn, the default) or silently (Ignore).
fn validate_fields(
    app: &App,
    def: &ResourceDef,
    req: &Req,
    body: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let mode = validation::Mode::parse(req.params.get("fieldValidation"))?;
    let api_version = def.api_version();
    let Some(schema) = schema_of(app, def) else {
        return Ok(Vec::new());
    };
    let raw_json = (!req.content_type().contains("yaml")
        && !protobuf::is_protobuf(req.content_type()))
    .then_some(req.bytes.as_ref());
    validation::check(&schema, &def.kind, &api_version, body, raw_json, mode)
}

/// The schema a kind's objects are validated against: its built-in layout, or its CRD's
/// structural schema.
fn schema_of(app: &App, def: &ResourceDef) -> Option<validation::Schema> {
    validation::Schema::builtin(&def.api_version(), &def.kind).or_else(|| {
        app.store
            .registry()
            .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .and_then(|crds| {
                app.store
                    .get(&crds, None, &format!("{}.{}", def.plural, def.group))
                    .ok()
            })
            .and_then(|crd| validation::Schema::from_crd(&crd, &def.version))
    })
}

/// One `Warning: 299 - "..."` header per message; kubectl prints them as `Warning: ...`.
fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = header::HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

fn replace(app: &App, obj: &Named, sub: Subresource, req: &Req) -> Result<Response, ApiError> {
    let Named { def, ns, name } = *obj;
    let options = write_options(req.params);
    let mut body = req.object(&def.kind)?;
    let warnings = validate_fields(app, def, req, &mut body)?;
    let out = app.store.replace(def, ns, name, body, sub, &options)?;
    Ok(with_warnings(
        json_response(StatusCode::OK, &out),
        &warnings,
    ))
}

fn patch(app: &App, obj: &Named, sub: Subresource, req: &Req) -> Result<Response, ApiError> {
    let kind = PatchKind::from_content_type(req.content_type())?;
    let mut body = req.body()?;
    let mut warnings = if kind == PatchKind::Apply {
        validate_fields(app, obj.def, req, &mut body)?
    } else {
        Vec::new()
    };
    if kind == PatchKind::Apply && req.params.get("fieldManager").is_none_or(str::is_empty) {
        return Err(ApiError::BadRequest(
            "PATCH request with apply-patch content type requires a fieldManager".into(),
        ));
    }
    let check = match kind {
        PatchKind::Apply => None,
        _ => PatchCheck::new(app, obj.def, kind, &body, req)?,
    };
    let patch_req = PatchRequest { kind, body: &body };
    let options = write_options(req.params);
    let (out, created) = match &check {
        None => app
            .store
            .patch(obj.def, obj.ns, obj.name, patch_req, sub, &options)?,
        Some(check) => app.store.patch_checked(
            obj.def,
            obj.ns,
            obj.name,
            patch_req,
            sub,
            &options,
            &mut |old, patched| check.run(old, patched, &mut warnings),
        )?,
    };
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_warnings(json_response(code, &out), &warnings))
}

/// Field validation of a JSON, merge or strategic merge patch, as the real server does it:
/// the patch is applied to the current object and the result is checked against the kind's
/// schema, plus duplicate keys in the patch itself (`json patch duplicate field "[0].op"` for
/// a JSON patch). Strict refuses with a 422 on the field `patch` quoting the patched object
/// (the patch map, for a strategic merge patch) and `strict decoding error: unknown field
/// "spec.x"`; Warn sends the same texts as warnings; unknown fields are never stored.
struct PatchCheck<'a> {
    schema: validation::Schema,
    mode: validation::Mode,
    kind: PatchKind,
    body: &'a Value,
    /// Duplicate fields in the patch itself.
    patch_errors: Vec<String>,
}

impl<'a> PatchCheck<'a> {
    /// The check for this patch; `None` when nothing can be wrong with its result (no schema
    /// for the kind, or a merge patch that is clean itself: its result has only the stored
    /// object's fields and the patch's; controllers patch status all the time).
    fn new(
        app: &App,
        def: &ResourceDef,
        kind: PatchKind,
        body: &'a Value,
        req: &Req,
    ) -> Result<Option<Self>, ApiError> {
        let mode = validation::Mode::parse(req.params.get("fieldValidation"))?;
        let Some(schema) = schema_of(app, def) else {
            return Ok(None);
        };
        let mut patch_errors = Vec::new();
        if mode != validation::Mode::Ignore {
            let prefix = if kind == PatchKind::Json {
                "json patch "
            } else {
                ""
            };
            patch_errors.extend(
                validation::duplicates(req.bytes)
                    .into_iter()
                    .map(|p| format!("{prefix}duplicate field \"{p}\"")),
            );
        }
        if patch_errors.is_empty()
            && kind != PatchKind::Json
            && validation::prune_unknown(&schema, &mut body.clone()).is_empty()
        {
            return Ok(None);
        }
        Ok(Some(PatchCheck {
            schema,
            mode,
            kind,
            body,
            patch_errors,
        }))
    }

    /// Check `patched` (the stored `old` with the patch applied): refuse it (Strict), or
    /// prune its unknown fields when the patch added some, adding the warnings (Warn) to
    /// `warnings`.
    fn run(
        &self,
        old: &Value,
        patched: &mut Value,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        // The Strict error quotes the patched object as it was before pruning.
        let unchecked = (self.mode == validation::Mode::Strict
            && self.kind != PatchKind::Strategic)
            .then(|| patched.to_string());
        let mut pruned = patched.clone();
        let mut unknown = validation::prune_unknown(&self.schema, &mut pruned);
        if !unknown.is_empty() {
            // Fields the stored object already has are not the patch's doing.
            let before = validation::prune_unknown(&self.schema, &mut old.clone());
            unknown.retain(|p| !before.contains(p));
        }
        // Only what the patch brought in makes the result stored without its unknown fields.
        if !unknown.is_empty() {
            *patched = pruned;
        }
        let mut errors = self.patch_errors.clone();
        errors.extend(unknown.iter().map(|p| format!("unknown field \"{p}\"")));
        if errors.is_empty() {
            return Ok(());
        }
        match self.mode {
            validation::Mode::Strict => Err(ApiError::Invalid {
                kind: String::new(),
                name: String::new(),
                causes: format!(
                    "patch: Invalid value: {}: strict decoding error: {}",
                    Value::String(unchecked.unwrap_or_else(|| validation::go_format(self.body))),
                    errors.join(", ")
                ),
            }),
            validation::Mode::Warn => {
                warnings.extend(errors);
                Ok(())
            }
            validation::Mode::Ignore => Ok(()),
        }
    }
}

fn delete(app: &App, obj: &Named, req: &Req) -> Result<Response, ApiError> {
    let Named { def, ns, name } = *obj;
    let options = body::decode_optional(req.bytes, req.content_type())?;
    let policy = propagation(req.params, options.as_ref())?;
    let dry_run = req.params.get("dryRun").is_some_and(|d| !d.is_empty())
        || options.as_ref().is_some_and(|o| o["dryRun"].is_array());
    if dry_run {
        let current = app.store.get(def, ns, name)?;
        return Ok(json_response(StatusCode::OK, &current));
    }
    let out = app.store.delete(def, ns, name, &delete_options(policy))?;
    Ok(json_response(StatusCode::OK, &deleted(app, obj, &out)))
}

/// What a DELETE answers, as the real server does: the object while it still exists (a
/// namespace turning Terminating, finalizers pending), the deleted object for the kinds whose
/// storage returns it (services, serviceaccounts, and pods, deleted gracefully: the lab removes
/// them at once, so the answer carries the deletionTimestamp a kubelet would see); otherwise a
/// `Status` with `status: Success` and the object's name, group, kind and uid.
fn deleted(app: &App, obj: &Named, out: &Value) -> Value {
    let still_there = app
        .store
        .get(obj.def, obj.ns, obj.name)
        .is_ok_and(|o| o["metadata"]["uid"] == out["metadata"]["uid"]);
    let returns_object = obj.def.group.is_empty()
        && matches!(obj.def.plural.as_str(), "services" | "serviceaccounts");
    if still_there || returns_object {
        return out.clone();
    }
    if obj.def.group.is_empty() && obj.def.plural == "pods" {
        let mut pod = out.clone();
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let grace = pod["spec"]["terminationGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(30);
        if let Some(meta) = pod["metadata"].as_object_mut() {
            meta.entry("deletionTimestamp").or_insert(json!(now));
            meta.entry("deletionGracePeriodSeconds")
                .or_insert(json!(grace));
        }
        return pod;
    }
    let mut details = json!({
        "name": obj.name,
        "kind": obj.def.plural,
        "uid": out["metadata"]["uid"],
    });
    if !obj.def.group.is_empty() {
        details["group"] = json!(obj.def.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// Deletes over HTTP are made by the token holder.
fn delete_options(propagation: Propagation) -> DeleteOptions {
    DeleteOptions {
        propagation,
        user: UserInfo::token_holder(),
    }
}

fn delete_collection(
    app: &App,
    def: &ResourceDef,
    namespace: Option<String>,
    params: &Params,
) -> Result<Response, ApiError> {
    let query = list_query(namespace, params)?;
    let opts = delete_options(propagation(params, None)?);
    let page = app.store.list(
        def,
        &ListQuery {
            limit: None,
            continue_after: None,
            ..query
        },
    )?;
    let mut items = Vec::new();
    for obj in page.items {
        let ns = obj["metadata"]["namespace"].as_str().map(String::from);
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match app.store.delete(def, ns.as_deref(), &name, &opts) {
            Ok(o) => items.push(o),
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let metadata = json!({"resourceVersion": app.store.resource_version().to_string()});
    Ok(list_response(def, &metadata, &items))
}

fn logs(app: &App, obj: &Named, params: &Params) -> Result<Response, ApiError> {
    let Named { def, ns, name } = *obj;
    let pod = app.store.get(def, ns, name)?;
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match params.get("container").filter(|c| !c.is_empty()) {
        Some(c) if names.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::BadRequest(format!(
                "container {c} is not valid for pod {name}"
            )))
        }
        None if names.len() == 1 => names[0].to_string(),
        None if names.is_empty() => {
            return Err(ApiError::BadRequest(format!(
                "pod {name} has no containers"
            )))
        }
        None => {
            return Err(ApiError::BadRequest(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )))
        }
    };
    let tail = params
        .get("tailLines")
        .and_then(|t| t.parse::<usize>().ok());
    let key = (
        ns.unwrap_or("default").to_string(),
        name.to_string(),
        container,
    );
    let headers = [(header::CONTENT_TYPE, "text/plain")];
    if params.flag("previous") {
        let Some(mut lines) = app.store.logs().previous(&key) else {
            return Err(ApiError::BadRequest(format!(
                "previous terminated container \"{}\" in pod \"{name}\" not found",
                key.2
            )));
        };
        if let Some(t) = tail {
            lines.drain(..lines.len().saturating_sub(t));
        }
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        return Ok((headers, text).into_response());
    }
    let start = app.store.logs().start(&key, tail);
    if params.flag("follow") {
        let stream = log_follow::follow(app.store.clone(), key, start);
        return Ok((headers, Body::from_stream(stream)).into_response());
    }
    let (lines, _) = app.store.logs().since(&key, start);
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok((headers, text).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::apiserver::resources::Registry;
    use tower::ServiceExt;

    fn app() -> App {
        App {
            store: Store::new(Registry::default(), 10),
            token: Arc::from("t"),
            max_body: 1024,
            server_address: Arc::from("127.0.0.1:1"),
            request_log: false,
            watchers: watch::Watchers::default(),
        }
    }

    async fn status(router: &Router, path: &str, token: Option<&str>) -> StatusCode {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req.body(Body::empty()).expect("request");
        router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible")
            .status()
    }

    #[tokio::test]
    async fn extra_routes_sit_behind_auth_and_are_not_in_the_api() {
        let api = router(app());
        assert_eq!(
            status(&api, "/lab/static", Some("t")).await,
            StatusCode::NOT_FOUND
        );
        let extra = Router::new().route("/lab/static", get(ok));
        let with = router_with(app(), extra);
        assert_eq!(
            status(&with, "/lab/static", Some("t")).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&with, "/lab/static", None).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(status(&with, "/version", None).await, StatusCode::OK);
    }

    #[test]
    fn exec_and_attach_name_the_limit_and_what_to_use() {
        for (sub, needle) in [
            (PodSession::Exec, "has none to run a command in"),
            (PodSession::Attach, "has none to attach to"),
        ] {
            let e = not_in_the_lab("default", "nginx-1", sub);
            let status = e.status();
            assert_eq!(status["code"], 405);
            assert_eq!(status["reason"], "MethodNotAllowed");
            let message = status["message"].as_str().unwrap_or_default();
            assert!(message.contains(needle), "{message}");
            assert!(message.contains("metallbctl lab"), "{message}");
        }
    }
}
