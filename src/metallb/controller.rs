//! The MetalLB controller loop (skeleton; filled in next).

use super::{ControllerOptions, Error};

/// Run until `shutdown` becomes true.
pub async fn run(
    _client: kube::Client,
    _opts: ControllerOptions,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), Error> {
    let _ = shutdown.wait_for(|s| *s).await;
    Ok(())
}
