//! Prometheus text metrics for the speaker (skeleton; filled in next).
