//! The object store: JSON objects keyed by resource type, namespace and name, one global
//! resourceVersion, a bounded watch history, and (in `logs`) pod log buffers. All writes go through one
//! mutex, so every change gets the next resourceVersion and watch history stays in order.
//! The HTTP layer and in-process users (runtime, controllers) share it. No I/O happens here.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::defaults;
use super::error::ApiError;
use super::events;
use super::lifecycle::{collect_owned, crd_instances, is_namespace};
use super::logs::LogBuffers;
use super::meta;
use super::patch::{self, PatchKind, PatchRequest};
use super::resources::{defs_from_crd, Registry, ResourceDef};
use super::selectors::{FieldSelector, LabelSelector};
use super::services;

/// Objects of one resource type, by (namespace, name). Cluster-scoped objects use "".
pub(super) type Bucket = BTreeMap<(String, String), Arc<Value>>;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The watch wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the watch history.
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub kind: EventType,
    /// The resource key (`group/version/plural`).
    pub resource: String,
    pub object: Arc<Value>,
    /// The object before a modification, so watches with selectors can tell an object that
    /// stopped (or started) matching.
    pub previous: Option<Arc<Value>>,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    Main,
    Status,
}

/// Options that ride along with a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub field_manager: Option<String>,
    /// Apply patches: take over conflicting fields (accepted; conflicts are not tracked).
    pub force: bool,
    /// `dryRun=All`: validate and compute the result, change nothing.
    pub dry_run: bool,
}

/// How dependents are treated on delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

/// What a list should return.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_after: Option<(String, String)>,
}

impl ListQuery {
    /// Does an object pass the namespace and selectors?
    pub fn matches(&self, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta::meta_str(obj, "namespace") == ns)
            && self.labels.matches(obj)
            && self.fields.matches(obj)
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub items: Vec<Arc<Value>>,
    pub resource_version: u64,
    /// Key of the last item when more remain.
    pub next: Option<(String, String)>,
    pub remaining: usize,
}

/// A snapshot for persistence: every object with its resource key, and the global rv.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub resource_version: u64,
    pub objects: Vec<(String, Arc<Value>)>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) rv: u64,
    pub(super) buckets: HashMap<String, Bucket>,
    pub(super) history: VecDeque<Change>,
    /// Every change with rv > `floor` is in `history`.
    pub(super) floor: u64,
    pub(super) closed: bool,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) state: Mutex<State>,
    pub(super) registry: Registry,
    pub(super) history_cap: usize,
    pub(super) notify: watch::Sender<u64>,
    pub(super) logs: LogBuffers,
}

/// The shared store. Cloning is cheap; all clones see the same objects.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) inner: Arc<Inner>,
}

impl Store {
    /// An empty store keeping at most `history_cap` changes for watches, with the namespaces
    /// every cluster has.
    pub fn new(registry: Registry, history_cap: usize) -> Self {
        let (notify, _) = watch::channel(0);
        let store = Store {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                registry,
                history_cap: history_cap.max(1),
                notify,
                logs: LogBuffers::default(),
            }),
        };
        store.bootstrap();
        store
    }

    /// The resource registry this store serves.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub(super) fn lock(&self) -> Result<MutexGuard<'_, State>, ApiError> {
        self.inner
            .state
            .lock()
            .map_err(|_| ApiError::Internal("store lock poisoned".into()))
    }

    fn def(&self, group: &str, plural: &str) -> Option<ResourceDef> {
        self.inner.registry.find(group, "v1", plural)
    }

    /// Create the namespaces and the `kubernetes` service a fresh cluster has.
    fn bootstrap(&self) {
        let Some(ns) = self.def("", "namespaces") else {
            return;
        };
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let _ = self.create(
                &ns,
                None,
                json!({"metadata": {"name": name}}),
                &WriteOptions::default(),
            );
        }
        if let Some(svc) = self.def("", "services") {
            let kubernetes = json!({
                "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}
            });
            let _ = self.create(&svc, Some("default"), kubernetes, &WriteOptions::default());
        }
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().map(|s| s.rv).unwrap_or(0)
    }

    /// A receiver that changes whenever the store does (its value is the latest rv).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.notify.subscribe()
    }

    /// Has the store been closed (server shutting down)?
    pub fn is_closed(&self) -> bool {
        self.lock().map(|s| s.closed).unwrap_or(true)
    }

    /// Close the store: watch streams end.
    pub fn close(&self) {
        if let Ok(mut s) = self.lock() {
            s.closed = true;
        }
        self.inner.notify.send_modify(|_| {});
    }

    /// Get one object.
    pub fn get(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let state = self.lock()?;
        lookup(&state, def, ns, name).cloned()
    }

    /// List objects matching a query, one page at a time.
    pub fn list(&self, def: &ResourceDef, q: &ListQuery) -> Result<ListPage, ApiError> {
        let state = self.lock()?;
        let mut items = Vec::new();
        let (mut next, mut remaining) = (None, 0usize);
        let limit = q.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        if let Some(bucket) = state.buckets.get(&def.key()) {
            let start = match &q.continue_after {
                Some(k) => std::ops::Bound::Excluded(k.clone()),
                None => std::ops::Bound::Unbounded,
            };
            for (key, obj) in bucket.range((start, std::ops::Bound::Unbounded)) {
                if !q.matches(obj) {
                    continue;
                }
                if items.len() < limit {
                    items.push(obj.clone());
                    if items.len() == limit {
                        next = Some(key.clone());
                    }
                } else {
                    remaining += 1;
                }
            }
        }
        if remaining == 0 {
            next = None;
        }
        Ok(ListPage {
            items,
            resource_version: state.rv,
            next,
            remaining,
        })
    }

    /// Create an object; `ns` is the namespace from the URL (namespaced kinds only).
    pub fn create(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock()?;
        let out = self.create_locked(&mut state, def, ns, obj, opts)?;
        self.notify(&state);
        Ok(out)
    }

    /// Replace an object (PUT), or its status.
    pub fn replace(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        obj: Value,
        sub: Subresource,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock()?;
        let old = lookup(&state, def, ns, name)?.clone();
        let out = self.update_locked(&mut state, def, &old, obj, sub, opts)?;
        self.notify(&state);
        Ok(out)
    }

    /// Patch an object, or its status. An apply patch creates the object if it is missing.
    pub fn patch(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        req: PatchRequest<'_>,
        sub: Subresource,
        opts: &WriteOptions,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let PatchRequest { kind, body } = req;
        let mut state = self.lock()?;
        let old = match lookup(&state, def, ns, name) {
            Ok(o) => o.clone(),
            Err(_) if kind == PatchKind::Apply && sub == Subresource::Main => {
                let mut obj = body.clone();
                if let Some(m) = meta::meta_mut(&mut obj) {
                    m.entry("name").or_insert_with(|| json!(name));
                }
                meta::record_manager(
                    &mut obj,
                    opts.field_manager.as_deref().unwrap_or("unknown"),
                    "Apply",
                    &def.api_version(),
                );
                let out = self.create_locked(&mut state, def, ns, obj, opts)?;
                self.notify(&state);
                return Ok((out, true));
            }
            Err(e) => return Err(e),
        };
        let mut new = (*old).clone();
        match kind {
            PatchKind::Merge => patch::merge_patch(&mut new, body),
            PatchKind::Json => patch::json_patch(&mut new, body)?,
            PatchKind::Strategic => patch::strategic_merge(&mut new, body)?,
            PatchKind::Apply => {
                patch::strategic_merge(&mut new, body)?;
                meta::record_manager(
                    &mut new,
                    opts.field_manager.as_deref().unwrap_or("unknown"),
                    "Apply",
                    &def.api_version(),
                );
            }
        }
        let out = self.update_locked(&mut state, def, &old, new, sub, opts)?;
        self.notify(&state);
        Ok((out, false))
    }

    /// Delete an object and, synchronously, what it owns (owned objects, CRD instances).
    /// A namespace first turns `Terminating` and is finalized (contents, then itself) a moment
    /// later, as on a real cluster, so `kubectl delete -f` can still delete its members.
    pub fn delete(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        propagation: Propagation,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock()?;
        let target = lookup(&state, def, ns, name)?.clone();
        if is_namespace(def) {
            if matches!(name, "default" | "kube-system" | "kube-public") {
                return Err(ApiError::Forbidden(format!(
                    "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
                )));
            }
            let out = self.mark_terminating(&mut state, def, &target);
            self.notify(&state);
            drop(state);
            self.schedule_finalize(name);
            return Ok(out);
        }
        let mut victims = Vec::new();
        if propagation != Propagation::Orphan {
            collect_owned(&state, meta::meta_str(&target, "uid"), &mut victims);
        }
        if def.kind == "CustomResourceDefinition" {
            victims.extend(crd_instances(&state, &target));
        }
        for (res, key) in victims {
            remove_locked(&mut state, &res, &key, self.inner.history_cap);
        }
        let key = (
            meta::meta_str(&target, "namespace").to_string(),
            name.to_string(),
        );
        let out = remove_locked(&mut state, &def.key(), &key, self.inner.history_cap)
            .ok_or_else(|| ApiError::not_found(&def.qualified(), name))?;
        if def.key() == events::NEW_EVENTS {
            remove_locked(
                &mut state,
                events::CORE_EVENTS,
                &key,
                self.inner.history_cap,
            );
        }
        if def.kind == "CustomResourceDefinition" {
            self.inner.registry.set_crd(name, Vec::new());
        }
        self.notify(&state);
        Ok(out)
    }

    /// Changes after `rv`, up to the current rv, or Expired if history no longer reaches back.
    pub fn changes_since(&self, rv: u64) -> Result<(Vec<Change>, u64), ApiError> {
        let state = self.lock()?;
        if rv < state.floor {
            return Err(ApiError::Expired {
                requested: rv,
                oldest: state.floor,
            });
        }
        let start = state.history.partition_point(|c| c.rv <= rv);
        Ok((state.history.range(start..).cloned().collect(), state.rv))
    }

    /// Append text (one or more lines) to a container's log; the runtime calls this.
    pub fn append_log(&self, ns: &str, pod: &str, container: &str, text: &str) {
        self.inner
            .logs
            .append((ns.into(), pod.into(), container.into()), text);
    }

    /// A container's log lines, the last `tail` of them if given.
    pub fn log_lines(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        tail: Option<usize>,
    ) -> Vec<String> {
        let key = (ns.to_string(), pod.to_string(), container.to_string());
        let start = self.inner.logs.start(&key, tail);
        self.inner.logs.since(&key, start).0
    }

    /// The log buffers.
    pub fn logs(&self) -> &LogBuffers {
        &self.inner.logs
    }

    /// Every object and the rv, for persistence.
    pub fn snapshot(&self) -> Result<Snapshot, ApiError> {
        let state = self.lock()?;
        let objects = state
            .buckets
            .iter()
            .flat_map(|(res, b)| b.values().map(move |o| (res.clone(), o.clone())))
            .collect();
        Ok(Snapshot {
            resource_version: state.rv,
            objects,
        })
    }

    /// Replace the contents with a snapshot (at start, before serving). Watches from before
    /// the snapshot's rv get Expired.
    pub fn restore(&self, snap: Snapshot) -> Result<(), ApiError> {
        let mut state = self.lock()?;
        state.buckets.clear();
        state.history.clear();
        for (res, obj) in snap.objects {
            if res.ends_with("/customresourcedefinitions") {
                let name = meta::meta_str(&obj, "name");
                self.inner.registry.set_crd(name, defs_from_crd(&obj));
            }
            let key = (
                meta::meta_str(&obj, "namespace").to_string(),
                meta::meta_str(&obj, "name").to_string(),
            );
            state.buckets.entry(res).or_default().insert(key, obj);
        }
        state.rv = snap.resource_version;
        state.floor = snap.resource_version;
        self.notify(&state);
        Ok(())
    }

    pub(super) fn notify(&self, state: &State) {
        let rv = state.rv;
        self.inner.notify.send_if_modified(|cur| {
            let changed = *cur != rv;
            *cur = rv;
            changed
        });
    }

    fn create_locked(
        &self,
        state: &mut State,
        def: &ResourceDef,
        ns: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        meta::stamp_type(&mut obj, def)?;
        let ns = resolve_namespace(state, def, ns, &obj)?;
        let name = resolve_name(&mut obj)?;
        meta::validate_name(def, &name)?;
        let key = (ns.clone(), name.clone());
        if state
            .buckets
            .get(&def.key())
            .is_some_and(|b| b.contains_key(&key))
        {
            return Err(ApiError::AlreadyExists {
                qualified: def.qualified(),
                name,
            });
        }
        init_metadata(&mut obj, &ns, opts, def);
        init_status(&mut obj, def);
        defaults::apply(&mut obj, def);
        if def.kind == "Service" && def.group.is_empty() {
            services::prepare_create(&mut obj, services::Taken::of(all_of(state, def)))?;
        }
        if def.kind == "CustomResourceDefinition" {
            self.register_crd(&mut obj, &name, opts.dry_run)?;
        }
        if opts.dry_run {
            return Ok(Arc::new(obj));
        }
        let out = commit(state, &def.key(), key, obj, self.inner.history_cap);
        mirror_event(state, def, &out, self.inner.history_cap);
        Ok(out)
    }

    fn update_locked(
        &self,
        state: &mut State,
        def: &ResourceDef,
        old: &Arc<Value>,
        mut new: Value,
        sub: Subresource,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        meta::stamp_type(&mut new, def)?;
        let name = meta::meta_str(old, "name").to_string();
        check_identity(def, old, &new)?;
        let wanted_rv = meta::meta_str(&new, "resourceVersion");
        if !wanted_rv.is_empty() && wanted_rv != meta::meta_str(old, "resourceVersion") {
            return Err(ApiError::Conflict {
                qualified: def.qualified(),
                name,
            });
        }
        let mut new = split_status(def, old, new, sub);
        keep_system_metadata(old, &mut new);
        defaults::apply(&mut new, def);
        if let (Some(fm), Subresource::Main) = (&opts.field_manager, sub) {
            if !fm.is_empty()
                && !new["metadata"]["managedFields"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|e| e["manager"] == fm.as_str()))
            {
                meta::record_manager(&mut new, fm, "Update", &def.api_version());
            }
        }
        if def.kind == "Service" && def.group.is_empty() && sub == Subresource::Main {
            let others = all_of(state, def)
                .filter(|s| meta::meta_str(s, "uid") != meta::meta_str(old, "uid"));
            services::prepare_update(old, &mut new, services::Taken::of(others))?;
        }
        if def.kind == "CustomResourceDefinition" {
            self.register_crd(&mut new, &name, opts.dry_run)?;
        }
        if meta::content_part(&new) == meta::content_part(old) {
            return Ok(old.clone());
        }
        if meta::spec_part(&new) != meta::spec_part(old) {
            let generation = old["metadata"]["generation"].as_u64().unwrap_or(0) + 1;
            if let Some(m) = meta::meta_mut(&mut new) {
                m.insert("generation".into(), json!(generation));
            }
        }
        if opts.dry_run {
            return Ok(Arc::new(new));
        }
        let key = (meta::meta_str(old, "namespace").to_string(), name);
        let out = commit(state, &def.key(), key, new, self.inner.history_cap);
        mirror_event(state, def, &out, self.inner.history_cap);
        Ok(out)
    }

    /// Register the resources of a CRD and mark it established.
    fn register_crd(&self, crd: &mut Value, name: &str, dry_run: bool) -> Result<(), ApiError> {
        let defs = defs_from_crd(crd);
        let expected = defs.first().map(|d| format!("{}.{}", d.plural, d.group));
        if expected.as_deref() != Some(name) {
            return Err(ApiError::Invalid {
                kind: "CustomResourceDefinition".into(),
                name: name.to_string(),
                causes: "metadata.name: Invalid value: must be spec.names.plural+\".\"+spec.group, with at least one served version".into(),
            });
        }
        if let Some(obj) = crd.as_object_mut() {
            obj.insert("status".into(), json!({
                "acceptedNames": crd_accepted_names(obj.get("spec")),
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": meta::now_rfc3339()},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": meta::now_rfc3339()}
                ],
                "storedVersions": defs.iter().map(|d| d.version.clone()).collect::<Vec<_>>(),
            }));
        }
        if !dry_run {
            self.inner.registry.set_crd(name, defs);
        }
        Ok(())
    }
}

fn crd_accepted_names(spec: Option<&Value>) -> Value {
    spec.map(|s| s["names"].clone()).unwrap_or(Value::Null)
}

fn lookup<'a>(
    state: &'a State,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
) -> Result<&'a Arc<Value>, ApiError> {
    let ns = if def.namespaced {
        ns.unwrap_or("default")
    } else {
        ""
    };
    state
        .buckets
        .get(&def.key())
        .and_then(|b| b.get(&(ns.to_string(), name.to_string())))
        .ok_or_else(|| ApiError::not_found(&def.qualified(), name))
}

fn all_of<'a>(state: &'a State, def: &ResourceDef) -> impl Iterator<Item = &'a Value> {
    state
        .buckets
        .get(&def.key())
        .into_iter()
        .flat_map(|b| b.values().map(|v| v.as_ref()))
}

/// The namespace an object goes into: the URL's, which the body may repeat but not contradict.
fn resolve_namespace(
    state: &State,
    def: &ResourceDef,
    url_ns: Option<&str>,
    obj: &Value,
) -> Result<String, ApiError> {
    if !def.namespaced {
        return Ok(String::new());
    }
    let body_ns = meta::meta_str(obj, "namespace");
    let ns = match (url_ns, body_ns) {
        (Some(u), b) if !b.is_empty() && b != u => return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        )),
        (Some(u), _) => u.to_string(),
        (None, b) if !b.is_empty() => b.to_string(),
        (None, _) => "default".to_string(),
    };
    let namespace = state
        .buckets
        .get("/v1/namespaces")
        .and_then(|b| b.get(&(String::new(), ns.clone())));
    match namespace {
        None => Err(ApiError::not_found("namespaces", &ns)),
        Some(n) if n["metadata"]["deletionTimestamp"].is_string() => Err(ApiError::Forbidden(format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            def.qualified(),
            meta::meta_str(obj, "name")
        ))),
        Some(_) => Ok(ns),
    }
}

/// The object's name, generated from `generateName` if needed.
fn resolve_name(obj: &mut Value) -> Result<String, ApiError> {
    let name = meta::meta_str(obj, "name").to_string();
    if !name.is_empty() {
        return Ok(name);
    }
    let prefix = meta::meta_str(obj, "generateName").to_string();
    if prefix.is_empty() {
        return Ok(String::new());
    }
    let name = format!("{prefix}{}", meta::random_suffix(5));
    if let Some(m) = meta::meta_mut(obj) {
        m.insert("name".into(), json!(name));
    }
    Ok(name)
}

fn init_metadata(obj: &mut Value, ns: &str, opts: &WriteOptions, def: &ResourceDef) {
    let manager = opts.field_manager.clone().filter(|m| !m.is_empty());
    let already_managed = obj["metadata"]["managedFields"].is_array();
    if let Some(m) = meta::meta_mut(obj) {
        if !ns.is_empty() {
            m.insert("namespace".into(), json!(ns));
        }
        m.insert("uid".into(), json!(meta::new_uid()));
        m.insert("creationTimestamp".into(), json!(meta::now_rfc3339()));
        m.insert("generation".into(), json!(1));
        m.remove("deletionTimestamp");
        if !already_managed {
            m.remove("managedFields");
        }
    }
    if let (Some(fm), false) = (manager, already_managed) {
        meta::record_manager(obj, &fm, "Update", &def.api_version());
    }
}

/// On create, status belongs to the server for kinds with a status subresource.
fn init_status(obj: &mut Value, def: &ResourceDef) {
    if !def.status || def.kind == "CustomResourceDefinition" {
        return;
    }
    let status = match (def.group.as_str(), def.kind.as_str()) {
        ("", "Namespace") => json!({"phase": "Active"}),
        ("", "Pod") => json!({"phase": "Pending", "qosClass": "BestEffort"}),
        ("", "Node") => obj.get("status").cloned().unwrap_or(json!({})),
        _ => json!({}),
    };
    if let Some(map) = obj.as_object_mut() {
        if status.as_object().is_some_and(|m| m.is_empty()) {
            map.remove("status");
        } else {
            map.insert("status".into(), status);
        }
    }
}

fn check_identity(def: &ResourceDef, old: &Value, new: &Value) -> Result<(), ApiError> {
    let (old_name, new_name) = (meta::meta_str(old, "name"), meta::meta_str(new, "name"));
    if !new_name.is_empty() && new_name != old_name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({new_name}) does not match the name on the URL ({old_name})"
        )));
    }
    let new_ns = meta::meta_str(new, "namespace");
    if def.namespaced && !new_ns.is_empty() && new_ns != meta::meta_str(old, "namespace") {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        ));
    }
    Ok(())
}

/// Main writes keep the stored status; status writes change only status.
fn split_status(def: &ResourceDef, old: &Value, new: Value, sub: Subresource) -> Value {
    if !def.status {
        return new;
    }
    let take_status_from = |mut base: Value, src: &Value| {
        if let Some(map) = base.as_object_mut() {
            match src.get("status") {
                Some(s) if !s.is_null() => map.insert("status".into(), s.clone()),
                _ => map.remove("status"),
            };
        }
        base
    };
    match sub {
        Subresource::Status => take_status_from(old.clone(), &new),
        Subresource::Main => take_status_from(new, old),
    }
}

/// Fields only the server sets survive every update.
fn keep_system_metadata(old: &Value, new: &mut Value) {
    let old_meta = &old["metadata"];
    if let Some(m) = meta::meta_mut(new) {
        for field in [
            "uid",
            "creationTimestamp",
            "namespace",
            "name",
            "generation",
            "deletionTimestamp",
        ] {
            match old_meta.get(field) {
                Some(v) => m.insert(field.into(), v.clone()),
                None => m.remove(field),
            };
        }
        if !m.contains_key("managedFields") {
            if let Some(v) = old_meta.get("managedFields") {
                m.insert("managedFields".into(), v.clone());
            }
        }
    }
}

fn push_history(state: &mut State, change: Change, cap: usize) {
    state.history.push_back(change);
    while state.history.len() > cap {
        if let Some(old) = state.history.pop_front() {
            state.floor = old.rv;
        }
    }
}

/// Store an object under the next resourceVersion and record the change.
pub(super) fn commit(
    state: &mut State,
    res: &str,
    key: (String, String),
    mut obj: Value,
    cap: usize,
) -> Arc<Value> {
    state.rv += 1;
    meta::set_resource_version(&mut obj, state.rv);
    let obj = Arc::new(obj);
    let previous = state
        .buckets
        .entry(res.to_string())
        .or_default()
        .insert(key, obj.clone());
    let kind = if previous.is_some() {
        EventType::Modified
    } else {
        EventType::Added
    };
    let change = Change {
        rv: state.rv,
        kind,
        resource: res.to_string(),
        object: obj.clone(),
        previous,
    };
    push_history(state, change, cap);
    obj
}

/// Mirror an events.k8s.io/v1 Event into core/v1 (see `events`).
fn mirror_event(state: &mut State, def: &ResourceDef, obj: &Value, cap: usize) {
    if def.key() != events::NEW_EVENTS {
        return;
    }
    let key = (
        meta::meta_str(obj, "namespace").to_string(),
        meta::meta_str(obj, "name").to_string(),
    );
    commit(state, events::CORE_EVENTS, key, events::to_core(obj), cap);
}

/// Remove an object under the next resourceVersion, recording a DELETED change.
pub(super) fn remove_locked(
    state: &mut State,
    res: &str,
    key: &(String, String),
    cap: usize,
) -> Option<Arc<Value>> {
    let old = state.buckets.get_mut(res)?.remove(key)?;
    state.rv += 1;
    let mut obj = (*old).clone();
    meta::set_resource_version(&mut obj, state.rv);
    let obj = Arc::new(obj);
    let change = Change {
        rv: state.rv,
        kind: EventType::Deleted,
        resource: res.to_string(),
        object: obj.clone(),
        previous: None,
    };
    push_history(state, change, cap);
    Some(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Store, ResourceDef, ResourceDef) {
        let s = Store::new(Registry::default(), 100);
        let cm = s.registry().find("", "v1", "configmaps");
        let svc = s.registry().find("", "v1", "services");
        match (cm, svc) {
            (Some(cm), Some(svc)) => (s, cm, svc),
            _ => unreachable!("built-in resources are registered"),
        }
    }

    #[test]
    fn create_conflict_and_noop() {
        let (s, cm, _) = store();
        let o = WriteOptions::default();
        let a = s.create(
            &cm,
            Some("default"),
            json!({"metadata": {"name": "a"}, "data": {"k": "v"}}),
            &o,
        );
        let a = a.ok().map(|a| (*a).clone()).unwrap_or_default();
        assert_eq!(a["metadata"]["generation"], 1);
        let dup = s.create(&cm, Some("default"), json!({"metadata": {"name": "a"}}), &o);
        assert_eq!(
            dup.err().map(|e| e.to_string()),
            Some("configmaps \"a\" already exists".into())
        );
        let mut stale = a.clone();
        stale["metadata"]["resourceVersion"] = json!("1");
        let err = s
            .replace(&cm, Some("default"), "a", stale, Subresource::Main, &o)
            .err();
        assert_eq!(err.map(|e| e.code()), Some(409));
        let rv = s.resource_version();
        let same = s.replace(&cm, Some("default"), "a", a.clone(), Subresource::Main, &o);
        assert!(same.is_ok());
        assert_eq!(
            s.resource_version(),
            rv,
            "a no-op write does not bump the rv"
        );
        let missing = s.create(&cm, Some("nope"), json!({"metadata": {"name": "a"}}), &o);
        assert_eq!(
            missing.err().map(|e| e.to_string()),
            Some("namespaces \"nope\" not found".into())
        );
    }

    #[test]
    fn namespace_delete_cascades_and_history_expires() {
        let (s, cm, _) = store();
        let ns = s.registry().find("", "v1", "namespaces");
        let Some(ns) = ns else { return };
        let o = WriteOptions::default();
        assert!(s
            .create(&ns, None, json!({"metadata": {"name": "x"}}), &o)
            .is_ok());
        assert!(s
            .create(&cm, Some("x"), json!({"metadata": {"name": "c"}}), &o)
            .is_ok());
        assert!(s.delete(&ns, None, "x", Propagation::Background).is_ok());
        let late = s.create(&cm, Some("x"), json!({"metadata": {"name": "d"}}), &o);
        assert_eq!(late.err().map(|e| e.code()), Some(404));
        assert!(
            s.get(&cm, Some("x"), "c").is_err(),
            "no runtime: finalized at once"
        );
        for i in 0..150 {
            let _ = s.create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": format!("n{i}")}}),
                &o,
            );
        }
        assert_eq!(s.changes_since(1).err().map(|e| e.code()), Some(410));
        let rv = s.resource_version();
        assert!(s.changes_since(rv - 5).is_ok_and(|(c, _)| c.len() == 5));
    }
}
