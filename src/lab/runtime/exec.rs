//! `kubectl exec` in the lab's containers: router containers run their router's tool
//! (`birdc` in BIRD containers, `vtysh` in FRR ones; see `RunningRouter::exec`), every other
//! container is simulated and says so.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::components::{self, Role};
use super::Shared;
use crate::lab::apiserver::exec::{ExecOutput, ExecRequest, PodSessions};
use crate::lab::topology::RouterKind;

/// The runtime's answer to exec requests.
pub struct RuntimeSessions {
    shared: Shared,
}

impl RuntimeSessions {
    pub fn new(shared: Shared) -> Arc<Self> {
        Arc::new(RuntimeSessions { shared })
    }
}

/// The router kind whose tool `argv[0]` is.
fn tool_kind(argv: &[String]) -> Option<RouterKind> {
    let tool = argv.first()?;
    match tool.rsplit('/').next().unwrap_or(tool) {
        "birdc" | "birdcl" => Some(RouterKind::Bird),
        "vtysh" => Some(RouterKind::Frr),
        _ => None,
    }
}

impl RuntimeSessions {
    fn run(&self, req: &ExecRequest) -> Result<ExecOutput, String> {
        let role = components::classify(&req.image, &self.shared.topology);
        let names = match role {
            Role::Routers(names) => names,
            Role::Controller | Role::Speaker => {
                return Err(format!(
                    "container {} of pod {}/{} is MetalLB's {}, run by the metallbctl lab as a task with no processes to exec into (simulated container, no exec); read its log with `kubectl logs -n {} {} -c {}`",
                    req.container, req.namespace, req.pod,
                    if role == Role::Controller { "controller" } else { "speaker" },
                    req.namespace, req.pod, req.container
                ))
            }
            Role::Simulated => {
                return Err(format!(
                    "container {} of pod {}/{} ({}) is a simulated container, no exec: the metallbctl lab runs no processes for it; read its log with `kubectl logs -n {} {} -c {}`",
                    req.container, req.namespace, req.pod, req.image, req.namespace, req.pod, req.container
                ))
            }
        };
        let running = self
            .shared
            .routers
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        let want = tool_kind(&req.command);
        let candidates: Vec<_> = names
            .iter()
            .filter_map(|n| running.get(n))
            .filter(|r| want.is_none_or(|k| r.spec().kind == k))
            .collect();
        let Some(router) = candidates.first() else {
            let tools = names
                .iter()
                .filter_map(|n| self.shared.topology.routers.iter().find(|r| &r.name == n))
                .map(|r| match r.kind {
                    RouterKind::Bird => "birdc",
                    RouterKind::Frr => "vtysh",
                })
                .collect::<Vec<_>>();
            return Err(if running.keys().any(|k| names.contains(k)) {
                format!(
                    "exec: {:?}: not found in container {}: it runs {} in the lab",
                    req.command.first().map(String::as_str).unwrap_or_default(),
                    req.container,
                    tools.join(" and ")
                )
            } else {
                format!("router container {} does not run (yet)", req.container)
            });
        };
        let out = router.exec(&req.command)?;
        Ok(ExecOutput {
            stdout: out.stdout.into_bytes(),
            stderr: out.stderr.into_bytes(),
            exit_code: out.exit_code,
        })
    }
}

impl PodSessions for RuntimeSessions {
    fn exec(&self, req: ExecRequest) -> BoxFuture<'static, Result<ExecOutput, String>> {
        let me = RuntimeSessions {
            shared: self.shared.clone(),
        };
        async move {
            tokio::task::spawn_blocking(move || me.run(&req))
                .await
                .map_err(|e| format!("exec failed: {e}"))?
        }
        .boxed()
    }
}
