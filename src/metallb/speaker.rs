//! The MetalLB speaker loop (skeleton; filled in next).

use super::{Error, SpeakerOptions};

/// Run until `shutdown` becomes true.
pub async fn run(
    _client: kube::Client,
    _opts: SpeakerOptions,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), Error> {
    let _ = shutdown.wait_for(|s| *s).await;
    Ok(())
}
