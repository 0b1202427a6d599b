//! The object store, the storage core of the API server: JSON objects keyed by resource type,
//! namespace and name, one global resourceVersion (MVCC: every change gets the next one), a
//! bounded watch history with a change notification for watch fan-out, snapshots for
//! persistence, and (in `logs`) pod log buffers. All writes go through one mutex, so watch
//! history stays in order. The HTTP layer and in-process users (runtime, controllers) share it.
//!
//! The core knows the generic object rules (names, metadata, status subresource, generation,
//! resourceVersion conflicts, dry run, owner-reference cascades); what is particular to a kind
//! (Service allocation, CRDs, namespaces, Events) is an admission hook (`admission`), which
//! every write passes through. No I/O and no timers here.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::admission::{Admission, Deletion, Operation, Request, UserInfo};
use super::defaults;
use super::error::ApiError;
use super::events::{CORE_EVENTS, NEW_EVENTS};
use super::logs::LogBuffers;
use super::meta;
use super::patch::{self, PatchKind, PatchRequest};
use super::resources::{Registry, ResourceDef};
use super::selectors::{FieldSelector, LabelSelector};
use super::services::{Allocations, SERVICES_KEY};

/// An object's (namespace, name). Cluster-scoped objects use "" for the namespace.
pub type ObjectKey = (String, String);

/// A stored object: its resource key (`group/version/plural`) and its key.
pub type ObjectRef = (String, ObjectKey);

/// Objects of one resource type, by key.
pub(super) type Bucket = BTreeMap<ObjectKey, Stored>;

/// The resources whose numbers grow with the Services a cluster holds (a Service brings its
/// Endpoints, its EndpointSlice and its Events): the store keeps these as JSON bytes.
const COMPACT: [&str; 5] = [
    SERVICES_KEY,
    CORE_EVENTS,
    NEW_EVENTS,
    "/v1/endpoints",
    "discovery.k8s.io/v1/endpointslices",
];

/// An object as the store keeps it. A `serde_json::Value` tree costs several times its JSON
/// text (each map, however small, is a B-tree node of about 600 bytes): at 50,000 Services
/// the trees of the resources in [`COMPACT`] alone took most of a gigabyte. Those are kept as
/// their JSON and parsed when read; the rest (RBAC rules, namespaces, pods, read on every
/// request or every runtime pass, and few) stay trees.
#[derive(Debug, Clone)]
pub enum Stored {
    Tree(Arc<Value>),
    Json(Arc<[u8]>),
}

impl Stored {
    /// The stored form of `obj` as an object of resource `res`.
    fn new(res: &str, obj: &Arc<Value>) -> Stored {
        if !COMPACT.contains(&res) {
            return Stored::Tree(obj.clone());
        }
        match serde_json::to_vec(obj.as_ref()) {
            Ok(json) => Stored::Json(Arc::from(json)),
            Err(_) => Stored::Tree(obj.clone()),
        }
    }

    /// The object. The JSON was written by `new` from a `Value`, so it parses; were it not to,
    /// the result is `null` rather than a panic.
    pub fn value(&self) -> Arc<Value> {
        match self {
            Stored::Tree(v) => v.clone(),
            Stored::Json(b) => Arc::new(serde_json::from_slice(b).unwrap_or(Value::Null)),
        }
    }

    /// Append the object's JSON to `out`, without building a tree.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Stored::Tree(v) => {
                let _ = serde_json::to_writer(out, v.as_ref());
            }
            Stored::Json(b) => out.extend_from_slice(b),
        }
    }
}

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
    /// The object, in the store's form: the history of a compact kind holds JSON, shared
    /// with the store while the object is current.
    pub object: Stored,
    /// The object before a modification, so watches with selectors can tell an object that
    /// stopped (or started) matching.
    pub previous: Option<Stored>,
    /// `object` as JSON when it is a tree, serialized once for every watcher and the change log.
    pub encoded: Arc<OnceLock<Vec<u8>>>,
}

impl Change {
    /// A change of an object kept as a tree.
    pub fn new(rv: u64, kind: EventType, resource: String, object: Arc<Value>) -> Change {
        Change {
            rv,
            kind,
            resource,
            object: Stored::Tree(object),
            previous: None,
            encoded: Arc::default(),
        }
    }

    /// The object.
    pub fn value(&self) -> Arc<Value> {
        self.object.value()
    }

    /// The object before a modification.
    pub fn previous_value(&self) -> Option<Arc<Value>> {
        self.previous.as_ref().map(Stored::value)
    }

    /// The object as JSON (serialized on first use, shared by every clone of this change).
    pub fn object_json(&self) -> &[u8] {
        match &self.object {
            Stored::Json(b) => b,
            Stored::Tree(v) => self
                .encoded
                .get_or_init(|| serde_json::to_vec(v.as_ref()).unwrap_or_default()),
        }
    }
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
    /// Who writes (for admission).
    pub user: UserInfo,
}

/// Options of a delete.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub propagation: Propagation,
    /// Who deletes (for admission).
    pub user: UserInfo,
}

impl From<Propagation> for DeleteOptions {
    fn from(propagation: Propagation) -> Self {
        DeleteOptions {
            propagation,
            ..DeleteOptions::default()
        }
    }
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
    /// Does every object pass (no namespace, no selectors)?
    pub fn matches_all(&self) -> bool {
        self.namespace.is_none()
            && self.labels == LabelSelector::default()
            && self.fields == FieldSelector::default()
    }

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

/// A snapshot in the store's own form (compact objects stay JSON), for the persistence
/// writer's compactions: taking it under the lock copies no object.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub resource_version: u64,
    pub objects: Vec<(String, Stored)>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) rv: u64,
    pub(super) buckets: HashMap<String, Bucket>,
    pub(super) history: VecDeque<Change>,
    /// Every change with rv > `floor` is in `history`.
    pub(super) floor: u64,
    pub(super) closed: bool,
    /// Indexes kept up to date by every change (`commit`, `remove_locked`, `restore`).
    pub(super) index: Index,
}

/// What the store keeps beside the objects so that no single request has to scan them all.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// The clusterIPs and node ports the stored Services hold.
    services: Allocations,
    /// Owner uid -> the objects that name it in their ownerReferences, sorted (a sorted `Vec`
    /// rather than a `BTreeSet`: most owners have one or two dependents, and a set's first
    /// node costs about 800 bytes however few it holds).
    dependents: HashMap<String, Vec<ObjectRef>>,
    /// The uid of every stored object, so an owner's existence is a lookup.
    uids: HashSet<String>,
}

impl Index {
    fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
        obj["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["uid"].as_str())
            .filter(|u| !u.is_empty())
    }

    fn add(&mut self, res: &str, key: &ObjectKey, obj: &Value) {
        if res == SERVICES_KEY {
            self.services.add(obj);
        }
        self.uids.insert(meta::meta_str(obj, "uid").to_string());
        for uid in Self::owner_uids(obj) {
            let list = self.dependents.entry(uid.to_string()).or_default();
            let entry = (res.to_string(), key.clone());
            if let Err(at) = list.binary_search(&entry) {
                list.insert(at, entry);
            }
        }
    }

    fn remove(&mut self, res: &str, key: &ObjectKey, obj: &Value) {
        if res == SERVICES_KEY {
            self.services.remove(obj);
        }
        self.uids.remove(meta::meta_str(obj, "uid"));
        for uid in Self::owner_uids(obj) {
            if let Some(list) = self.dependents.get_mut(uid) {
                if let Ok(at) = list.binary_search(&(res.to_string(), key.clone())) {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.dependents.remove(uid);
                }
            }
        }
    }
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) state: Mutex<State>,
    pub(super) registry: Registry,
    pub(super) history_cap: usize,
    pub(super) notify: watch::Sender<u64>,
    pub(super) logs: LogBuffers,
    pub(super) admission: Admission,
}

/// Read access to the stored objects, for admission hooks.
pub struct View<'a> {
    state: &'a State,
}

impl<'a> View<'a> {
    /// One object.
    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.state
            .buckets
            .get(resource)?
            .get(&(ns.to_string(), name.to_string()))
            .map(Stored::value)
    }

    /// Every object of a resource.
    pub fn objects(&self, resource: &str) -> impl Iterator<Item = Arc<Value>> + 'a {
        self.objects_with_keys(resource).map(|(_, o)| o)
    }

    /// Every object of a resource, with its key.
    pub fn objects_with_keys(
        &self,
        resource: &str,
    ) -> impl Iterator<Item = (&'a ObjectKey, Arc<Value>)> + 'a {
        self.state
            .buckets
            .get(resource)
            .into_iter()
            .flatten()
            .map(|(k, o)| (k, o.value()))
    }

    /// One object of a resource the store keeps as a tree (none of [`COMPACT`]), borrowed
    /// for as long as the view lives; `None` for the compact ones (read those with `get`).
    pub fn tree(&self, resource: &str, ns: &str, name: &str) -> Option<&'a Arc<Value>> {
        match self
            .state
            .buckets
            .get(resource)?
            .get(&(ns.to_string(), name.to_string()))?
        {
            Stored::Tree(v) => Some(v),
            Stored::Json(_) => None,
        }
    }

    /// Every object of a resource kept as a tree, borrowed, with its key (nothing for the
    /// resources in [`COMPACT`]: read those with `objects_with_keys`).
    pub fn trees(
        &self,
        resource: &str,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        self.state
            .buckets
            .get(resource)
            .into_iter()
            .flatten()
            .filter_map(|(k, o)| match o {
                Stored::Tree(v) => Some((k, v)),
                Stored::Json(_) => None,
            })
    }

    /// The clusterIPs and node ports held by the stored Services.
    pub fn service_allocations(&self) -> &'a Allocations {
        &self.state.index.services
    }

    /// The keys of one namespace's objects of resource `resource`.
    pub fn keys_in(
        &self,
        resource: &str,
        namespace: &str,
    ) -> impl Iterator<Item = &'a ObjectKey> + 'a {
        use std::ops::Bound;
        let ns = namespace.to_string();
        let start = Bound::Included((ns.clone(), String::new()));
        self.state
            .buckets
            .get(resource)
            .into_iter()
            .flat_map(move |b| b.range((start.clone(), Bound::Unbounded)).map(|(k, _)| k))
            .take_while(move |k| k.0 == ns)
    }
}

/// Writes inside one locked transaction: each change gets the next resourceVersion and a
/// watch history entry; watchers are notified when the transaction ends.
pub struct Txn<'a> {
    state: &'a mut State,
    registry: &'a Registry,
    cap: usize,
}

impl Txn<'_> {
    pub fn view(&self) -> View<'_> {
        View { state: self.state }
    }

    /// The resource registry (CRDs register their resources here).
    pub fn registry(&self) -> &Registry {
        self.registry
    }

    /// Store an object (added or modified).
    pub fn put(&mut self, resource: &str, key: ObjectKey, obj: Value) -> Arc<Value> {
        commit(self.state, resource, key, obj, None, self.cap)
    }

    /// `put` over `old`, the object stored at `key` as the caller already read it (so a
    /// compact object is not parsed again to update the indexes).
    pub fn put_over(
        &mut self,
        resource: &str,
        key: ObjectKey,
        obj: Value,
        old: &Value,
    ) -> Arc<Value> {
        commit(self.state, resource, key, obj, Some(old), self.cap)
    }

    /// Remove an object, if present.
    pub fn remove(&mut self, resource: &str, key: &ObjectKey) -> Option<Arc<Value>> {
        remove_locked(self.state, resource, key, self.cap)
    }
}

/// The shared store. Cloning is cheap; all clones see the same objects.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) inner: Arc<Inner>,
}

impl Store {
    /// An empty store keeping at most `history_cap` changes for watches, with the namespaces
    /// every cluster has and the standard admission hooks.
    pub fn new(registry: Registry, history_cap: usize) -> Self {
        Store::with_admission(registry, history_cap, Admission::standard())
    }

    /// `new`, with the given admission hooks.
    pub fn with_admission(registry: Registry, history_cap: usize, admission: Admission) -> Self {
        let (notify, _) = watch::channel(0);
        let store = Store {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                registry,
                history_cap: history_cap.max(1),
                notify,
                logs: LogBuffers::default(),
                admission,
            }),
        };
        store.bootstrap();
        store
    }

    /// Run `f` on a consistent view of the objects.
    pub fn read<R>(&self, f: impl FnOnce(&View<'_>) -> R) -> Result<R, ApiError> {
        let state = self.lock()?;
        Ok(f(&View { state: &state }))
    }

    /// Run `f` as one transaction under the store's lock, then notify watchers.
    pub fn transact<R>(&self, f: impl FnOnce(&mut Txn<'_>) -> R) -> Result<R, ApiError> {
        let mut state = self.lock()?;
        let out = f(&mut self.txn(&mut state));
        self.notify(&state);
        Ok(out)
    }

    fn txn<'a>(&'a self, state: &'a mut State) -> Txn<'a> {
        Txn {
            state,
            registry: &self.inner.registry,
            cap: self.inner.history_cap,
        }
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
        lookup(&state, def, ns, name)
    }

    /// List objects matching a query, one page at a time.
    pub fn list(&self, def: &ResourceDef, q: &ListQuery) -> Result<ListPage, ApiError> {
        let state = self.lock()?;
        let mut items = Vec::new();
        let (mut next, mut remaining) = (None, 0usize);
        let limit = q.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        if let Some(bucket) = state.buckets.get(&def.key()) {
            use std::ops::Bound;
            // Keys sort by namespace first: a list of one namespace reads only its range.
            let ns = q.namespace.as_deref().filter(|_| def.namespaced);
            let mut start = match (&q.continue_after, ns) {
                (Some(k), _) => Bound::Excluded(k.clone()),
                (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
                (None, None) => Bound::Unbounded,
            };
            if let (Bound::Excluded(k), Some(ns)) = (&start, ns) {
                if k.0.as_str() < ns {
                    start = Bound::Included((ns.to_string(), String::new()));
                }
            }
            let range = bucket
                .range((start, Bound::Unbounded))
                .take_while(|(k, _)| ns.is_none_or(|ns| k.0 == ns));
            // With no selectors the key range alone decides, so past a full page the objects
            // are only counted, not read (reading a compact object parses it).
            let range_decides = q.labels == LabelSelector::default()
                && q.fields == FieldSelector::default()
                && (q.namespace.is_none() || ns.is_some());
            for (key, stored) in range {
                if range_decides && items.len() >= limit {
                    remaining += 1;
                    continue;
                }
                let obj = stored.value();
                if !q.matches(&obj) {
                    continue;
                }
                if items.len() < limit {
                    items.push(obj);
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
        if !opts.dry_run && is_orphan(&state, &out) {
            // Its owners went before it arrived (a controller wrote it for an object deleted
            // meanwhile): a cluster's garbage collector removes it, and so does the store.
            let key = (
                meta::meta_str(&out, "namespace").to_string(),
                meta::meta_str(&out, "name").to_string(),
            );
            self.txn(&mut state).remove(&def.key(), &key);
        }
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
        let old = lookup(&state, def, ns, name)?;
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
        self.patch_checked(def, ns, name, req, sub, opts, &mut |_, _| Ok(()))
    }

    /// [`Store::patch`], with `check` run on the stored object and the patched result (not
    /// for an apply patch) before it is written, under the same lock: field validation may
    /// refuse the result or prune it.
    #[allow(clippy::too_many_arguments)]
    pub fn patch_checked(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        req: PatchRequest<'_>,
        sub: Subresource,
        opts: &WriteOptions,
        check: &mut dyn FnMut(&Value, &mut Value) -> Result<(), ApiError>,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let PatchRequest { kind, body } = req;
        let mut state = self.lock()?;
        let old = match lookup(&state, def, ns, name) {
            Ok(o) => o,
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
            PatchKind::Merge => {
                patch::merge_patch(&mut new, body);
                check(&old, &mut new)?;
            }
            PatchKind::Json => {
                patch::json_patch(&mut new, body)?;
                check(&old, &mut new)?;
            }
            PatchKind::Strategic => {
                patch::strategic_merge(&mut new, body)?;
                check(&old, &mut new)?;
            }
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

    /// Delete an object and, synchronously, what it owns (owner references, and what the
    /// admission hooks add: a CRD's instances). A hook may keep the object instead (a
    /// namespace turns `Terminating` and is finalized later, see `admission`).
    pub fn delete(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let mut state = self.lock()?;
        let target = lookup(&state, def, ns, name)?;
        let key = (
            meta::meta_str(&target, "namespace").to_string(),
            name.to_string(),
        );
        let req = Request {
            operation: Operation::Delete,
            def,
            subresource: Subresource::Main,
            namespace: &key.0,
            name,
            old: Some(&target),
            user: &opts.user,
            dry_run: false,
        };
        let admission = &self.inner.admission;
        let view = View { state: &state };
        admission.admit(&req, &view)?;
        let dependents = match admission.delete(&req, &target, &view)? {
            Deletion::Keep(None) => return Ok(target),
            Deletion::Keep(Some(kept)) => {
                let out = self
                    .txn(&mut state)
                    .put_over(&def.key(), key, kept, &target);
                self.notify(&state);
                return Ok(out);
            }
            Deletion::Proceed(dependents) => dependents,
        };
        let mut victims = Vec::new();
        if opts.propagation != Propagation::Orphan {
            collect_owned(&state, meta::meta_str(&target, "uid"), &mut victims);
        }
        victims.extend(dependents);
        let mut tx = self.txn(&mut state);
        for (res, key) in victims {
            tx.remove(&res, &key);
        }
        let out = tx
            .remove(&def.key(), &key)
            .ok_or_else(|| ApiError::not_found(&def.qualified(), name))?;
        admission.removed(&req, &out, &mut tx);
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
            .flat_map(|(res, b)| b.values().map(move |o| (res.clone(), o.value())))
            .collect();
        Ok(Snapshot {
            resource_version: state.rv,
            objects,
        })
    }

    /// Every object in its stored form and the rv, for the persistence writer.
    pub fn stored_snapshot(&self) -> Result<StoredSnapshot, ApiError> {
        let state = self.lock()?;
        let objects = state
            .buckets
            .iter()
            .flat_map(|(res, b)| b.values().map(move |o| (res.clone(), o.clone())))
            .collect();
        Ok(StoredSnapshot {
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
        state.index = Index::default();
        for (res, obj) in snap.objects {
            self.inner
                .admission
                .restored(&res, &obj, &self.inner.registry);
            let key = (
                meta::meta_str(&obj, "namespace").to_string(),
                meta::meta_str(&obj, "name").to_string(),
            );
            let stored = Stored::new(&res, &obj);
            let previous = state
                .buckets
                .entry(res.clone())
                .or_default()
                .insert(key.clone(), stored);
            if let Some(previous) = previous {
                state.index.remove(&res, &key, &previous.value());
            }
            state.index.add(&res, &key, &obj);
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
        let ns = resolve_namespace(def, ns, &obj)?;
        let admission = &self.inner.admission;
        let body_name = meta::meta_str(&obj, "name").to_string();
        let mut req = Request {
            operation: Operation::Create,
            def,
            subresource: Subresource::Main,
            namespace: &ns,
            name: &body_name,
            old: None,
            user: &opts.user,
            dry_run: opts.dry_run,
        };
        admission.admit(&req, &View { state })?;
        let name = resolve_name(&mut obj)?;
        meta::validate_name(def, &name)?;
        req.name = &name;
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
        admission.mutate(&req, &mut obj, &View { state })?;
        admission.validate(&req, &obj, &View { state })?;
        if opts.dry_run {
            return Ok(Arc::new(obj));
        }
        let mut tx = self.txn(state);
        let out = tx.put(&def.key(), key, obj);
        admission.stored(&req, &out, &mut tx);
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
        let name = meta::meta_str(old, "name").to_string();
        let ns = meta::meta_str(old, "namespace").to_string();
        let req = Request {
            operation: Operation::Update,
            def,
            subresource: sub,
            namespace: &ns,
            name: &name,
            old: Some(old),
            user: &opts.user,
            dry_run: opts.dry_run,
        };
        let admission = &self.inner.admission;
        admission.admit(&req, &View { state })?;
        meta::stamp_type(&mut new, def)?;
        check_identity(def, old, &new)?;
        let wanted_rv = meta::meta_str(&new, "resourceVersion");
        if !wanted_rv.is_empty() && wanted_rv != meta::meta_str(old, "resourceVersion") {
            return Err(ApiError::Conflict {
                qualified: def.qualified(),
                name: name.clone(),
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
        admission.mutate(&req, &mut new, &View { state })?;
        admission.validate(&req, &new, &View { state })?;
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
        let mut tx = self.txn(state);
        let out = tx.put_over(&def.key(), (ns.clone(), name.clone()), new, old);
        admission.stored(&req, &out, &mut tx);
        Ok(out)
    }
}

fn lookup(
    state: &State,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
) -> Result<Arc<Value>, ApiError> {
    let ns = if def.namespaced {
        ns.unwrap_or("default")
    } else {
        ""
    };
    state
        .buckets
        .get(&def.key())
        .and_then(|b| b.get(&(ns.to_string(), name.to_string())))
        .map(Stored::value)
        .ok_or_else(|| ApiError::not_found(&def.qualified(), name))
}

/// The namespace an object goes into: the URL's, which the body may repeat but not contradict.
/// Whether it exists and takes new content is for admission (`NamespaceLifecycle`).
fn resolve_namespace(
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
    Ok(ns)
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
fn commit(
    state: &mut State,
    res: &str,
    key: (String, String),
    mut obj: Value,
    old: Option<&Value>,
    cap: usize,
) -> Arc<Value> {
    state.rv += 1;
    meta::set_resource_version(&mut obj, state.rv);
    let obj = Arc::new(obj);
    let stored = Stored::new(res, &obj);
    let previous = state
        .buckets
        .entry(res.to_string())
        .or_default()
        .insert(key.clone(), stored.clone());
    match (&previous, old) {
        (Some(_), Some(old)) => state.index.remove(res, &key, old),
        (Some(previous), None) => state.index.remove(res, &key, &previous.value()),
        (None, _) => {}
    }
    state.index.add(res, &key, &obj);
    let kind = if previous.is_some() {
        EventType::Modified
    } else {
        EventType::Added
    };
    let change = Change {
        rv: state.rv,
        kind,
        resource: res.to_string(),
        object: stored,
        previous,
        encoded: Arc::default(),
    };
    push_history(state, change, cap);
    obj
}

/// Remove an object under the next resourceVersion, recording a DELETED change.
fn remove_locked(
    state: &mut State,
    res: &str,
    key: &(String, String),
    cap: usize,
) -> Option<Arc<Value>> {
    let old = state.buckets.get_mut(res)?.remove(key)?.value();
    state.index.remove(res, key, &old);
    state.rv += 1;
    let mut obj = Arc::unwrap_or_clone(old);
    meta::set_resource_version(&mut obj, state.rv);
    let obj = Arc::new(obj);
    let change = Change {
        rv: state.rv,
        kind: EventType::Deleted,
        resource: res.to_string(),
        object: Stored::new(res, &obj),
        previous: None,
        encoded: Arc::default(),
    };
    push_history(state, change, cap);
    Some(obj)
}

/// Does `obj` name owners, none of which is stored?
fn is_orphan(state: &State, obj: &Value) -> bool {
    let mut owners = Index::owner_uids(obj).peekable();
    owners.peek().is_some() && owners.all(|uid| !state.index.uids.contains(uid))
}

/// Everything owned, directly or transitively, by the object with `uid`, dependents first.
/// The owner index (`Index::dependents`) answers without scanning the store.
fn collect_owned(state: &State, uid: &str, out: &mut Vec<ObjectRef>) {
    if uid.is_empty() {
        return;
    }
    let Some(dependents) = state.index.dependents.get(uid) else {
        return;
    };
    for entry in dependents {
        let Some(obj) = state.buckets.get(&entry.0).and_then(|b| b.get(&entry.1)) else {
            continue;
        };
        if !out.contains(entry) {
            collect_owned(state, meta::meta_str(&obj.value(), "uid"), out);
            out.push(entry.clone());
        }
    }
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

    /// Services (one of the compact kinds) are kept as JSON: what a get, a list, a label or
    /// field selector, a view, a watch change and a snapshot see is what the write returned,
    /// and updates and deletes keep the indexes and the watch history as before.
    #[test]
    fn compact_objects_read_back_as_written() {
        let (s, cm, svc) = store();
        let o = WriteOptions::default();
        let mut made = Vec::new();
        for (i, app) in ["web", "db", "web"].iter().enumerate() {
            let body = json!({"metadata": {"name": format!("s{i}"), "labels": {"app": app}},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "protocol": "TCP"}],
                         "weights": [1.5, -2, 18446744073709551615u64]}});
            let out = s.create(&svc, Some("default"), body, &o);
            made.push(out.unwrap_or_else(|e| panic!("create s{i}: {e:?}")));
        }
        let plain = s.create(&cm, Some("default"), json!({"metadata": {"name": "c"}}), &o);
        assert!(plain.is_ok());
        let state = s.lock().unwrap_or_else(|e| panic!("{e:?}"));
        let bucket = state.buckets.get(SERVICES_KEY);
        assert!(bucket.is_some_and(|b| b.values().all(|v| matches!(v, Stored::Json(_)))));
        let cms = state.buckets.get(&cm.key());
        assert!(cms.is_some_and(|b| b.values().all(|v| matches!(v, Stored::Tree(_)))));
        drop(state);

        for m in &made {
            let name = meta::meta_str(m, "name");
            let got = s.get(&svc, Some("default"), name);
            assert_eq!(got.ok().as_deref(), Some(m.as_ref()));
            let viewed = s.read(|v| v.get(SERVICES_KEY, "default", name));
            assert_eq!(viewed.ok().flatten().as_deref(), Some(m.as_ref()));
            // Compact objects are not lent out as trees.
            assert!(s
                .read(|v| v.tree(SERVICES_KEY, "default", name).is_none())
                .unwrap_or(false));
        }
        let list = |q: ListQuery| -> Vec<String> {
            s.list(&svc, &q)
                .map(|p| {
                    p.items
                        .iter()
                        .map(|o| meta::meta_str(o, "name").to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let all = list(ListQuery::default());
        assert_eq!(all, ["kubernetes", "s0", "s1", "s2"]);
        let labels = LabelSelector::parse("app=web").unwrap_or_else(|e| panic!("{e:?}"));
        let web = ListQuery {
            labels,
            ..ListQuery::default()
        };
        assert_eq!(list(web), ["s0", "s2"]);
        let fields = FieldSelector::parse("metadata.name=s1").unwrap_or_else(|e| panic!("{e:?}"));
        let by_name = ListQuery {
            fields,
            ..ListQuery::default()
        };
        assert_eq!(list(by_name), ["s1"]);
        let page = s.list(
            &svc,
            &ListQuery {
                limit: Some(2),
                ..ListQuery::default()
            },
        );
        assert_eq!(
            page.ok().and_then(|p| p.next),
            Some(("default".into(), "s0".into()))
        );

        // An update: the change carries the old object and the new one's JSON.
        let rv = s.resource_version();
        let mut new = (*made[1]).clone();
        new["metadata"]["labels"]["app"] = json!("web");
        let updated = s.replace(&svc, Some("default"), "s1", new, Subresource::Main, &o);
        let updated = updated.unwrap_or_else(|e| panic!("{e:?}"));
        let (changes, _) = s.changes_since(rv).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(changes.len(), 1);
        let c = &changes[0];
        assert_eq!(c.kind, EventType::Modified);
        assert!(matches!(c.object, Stored::Json(_)));
        assert_eq!(c.value().as_ref(), updated.as_ref());
        assert_eq!(c.previous_value().as_deref(), Some(made[1].as_ref()));
        let json: Value = serde_json::from_slice(c.object_json()).unwrap_or_default();
        assert_eq!(&json, updated.as_ref());

        // The snapshot holds the stored objects, and restoring it gives the same store.
        let snap = s.snapshot().unwrap_or_else(|e| panic!("{e:?}"));
        let (t, _, svc2) = store();
        assert!(t.restore(snap.clone()).is_ok());
        assert_eq!(
            t.get(&svc2, Some("default"), "s1").ok().as_deref(),
            Some(updated.as_ref())
        );
        let again = t.snapshot().unwrap_or_else(|e| panic!("{e:?}"));
        let mut a: Vec<_> = snap
            .objects
            .iter()
            .map(|(r, o)| (r.clone(), o.to_string()))
            .collect();
        let mut b: Vec<_> = again
            .objects
            .iter()
            .map(|(r, o)| (r.clone(), o.to_string()))
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);

        // The persistence writer's compact snapshot writes the same bytes.
        use super::super::persistence;
        let stored = s.stored_snapshot().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            String::from_utf8_lossy(&persistence::encode_stored(&stored)),
            String::from_utf8_lossy(&persistence::encode(&snap))
        );

        // A delete returns the object last stored and leaves no uid behind.
        let uid = meta::meta_str(&updated, "uid").to_string();
        let gone = s.delete(&svc, Some("default"), "s1", &DeleteOptions::default());
        let gone = gone.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(gone["spec"], updated["spec"]);
        let state = s.lock().unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!state.index.uids.contains(&uid));
        let all: Vec<Arc<Value>> = state.buckets[SERVICES_KEY]
            .values()
            .map(Stored::value)
            .collect();
        let rebuilt = Allocations::of(all.iter().map(|s| s.as_ref()));
        assert_eq!(state.index.services.held(), rebuilt.held());
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
        assert!(s.delete(&ns, None, "x", &DeleteOptions::default()).is_ok());
        let late = s.create(&cm, Some("x"), json!({"metadata": {"name": "d"}}), &o);
        assert_eq!(late.err().map(|e| e.code()), Some(403), "terminating");
        assert!(s.get(&cm, Some("x"), "c").is_ok(), "kept until finalized");
        crate::lab::apiserver::admission::finalize_namespace(&s, "x");
        assert!(s.get(&cm, Some("x"), "c").is_err());
        let late = s.create(&cm, Some("x"), json!({"metadata": {"name": "d"}}), &o);
        assert_eq!(late.err().map(|e| e.code()), Some(404), "gone");
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

    #[test]
    fn namespaced_lists_page_within_their_namespace() {
        let (s, cm, _) = store();
        let ns = s.registry().find("", "v1", "namespaces");
        let Some(ns) = ns else { return };
        let o = WriteOptions::default();
        for n in ["a", "b", "c"] {
            assert!(s
                .create(&ns, None, json!({"metadata": {"name": n}}), &o)
                .is_ok());
            for i in 0..3 {
                let obj = json!({"metadata": {"name": format!("{n}{i}")}});
                assert!(s.create(&cm, Some(n), obj, &o).is_ok());
            }
        }
        let names = |p: &ListPage| -> Vec<String> {
            p.items
                .iter()
                .map(|o| meta::meta_str(o, "name").to_string())
                .collect()
        };
        let mut q = ListQuery {
            namespace: Some("b".into()),
            limit: Some(2),
            ..ListQuery::default()
        };
        let first = s.list(&cm, &q);
        let Ok(first) = first else { panic!("list") };
        assert_eq!(names(&first), ["b0", "b1"]);
        assert_eq!(first.remaining, 1);
        q.continue_after = first.next.clone();
        let second = s.list(&cm, &q).map(|p| (names(&p), p.next, p.remaining));
        assert_eq!(second.ok(), Some((vec!["b2".to_string()], None, 0)));
        q.continue_after = Some(("a".into(), "zzz".into()));
        let from_before = s.list(&cm, &q).map(|p| names(&p));
        assert_eq!(
            from_before.ok(),
            Some(vec!["b0".to_string(), "b1".to_string()])
        );
        let all = s.list(&cm, &ListQuery::default()).map(|p| p.items.len());
        assert_eq!(all.ok(), Some(9));
    }

    #[test]
    fn owner_chains_cascade_through_the_index() {
        let (s, cm, _) = store();
        let o = WriteOptions::default();
        let make = |name: &str, owner: Option<&Arc<Value>>| {
            let mut obj = json!({"metadata": {"name": name}});
            if let Some(owner) = owner {
                obj["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1",
                    "kind": "ConfigMap", "name": meta::meta_str(owner, "name"),
                    "uid": meta::meta_str(owner, "uid")}]);
            }
            s.create(&cm, Some("default"), obj, &o)
        };
        let Ok(root) = make("root", None) else {
            panic!("create")
        };
        let Ok(child) = make("child", Some(&root)) else {
            panic!("create")
        };
        let Ok(_) = make("grandchild", Some(&child)) else {
            panic!("create")
        };
        let Ok(other) = make("other", None) else {
            panic!("create")
        };
        // Re-owning an object moves it in the index.
        let Ok(moved) = make("moved", Some(&root)) else {
            panic!("create")
        };
        let mut re = (*moved).clone();
        re["metadata"]["ownerReferences"][0]["uid"] = other["metadata"]["uid"].clone();
        assert!(s
            .replace(&cm, Some("default"), "moved", re, Subresource::Main, &o)
            .is_ok());
        assert!(s
            .delete(&cm, Some("default"), "root", &DeleteOptions::default())
            .is_ok());
        for gone in ["root", "child", "grandchild"] {
            assert!(s.get(&cm, Some("default"), gone).is_err(), "{gone}");
        }
        assert!(s.get(&cm, Some("default"), "moved").is_ok());
        assert!(s
            .delete(&cm, Some("default"), "other", &DeleteOptions::default())
            .is_ok());
        assert!(s.get(&cm, Some("default"), "moved").is_err());
    }
}
