//! The BGP-4 wire codec: messages, path attributes, RFC error mapping, protocol numbers.
//!
//! Pure functions over byte slices: no I/O, no clocks, no tokio. The session state machine
//! owns which context (negotiated capabilities) applies to each message.

pub mod attribute;
pub mod error;
pub mod iana;
pub mod message;
mod wire;

pub use attribute::{
    Afi, AsSegment, Attributes, LargeCommunity, MpReach, MpUnreach, Origin, PeerKind,
};
pub use error::{DecodeError, EncodeError, ErrorAction, ErrorCode, UpdateFault};
pub use message::{frame, Capability, Decoded, Message, Notification, Open, Update};
pub(crate) use wire::prefix_wire_len;

/// What encoding and decoding depend on: the capabilities both sides negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ctx {
    /// Both sides sent the 4-octet AS capability: AS_PATH carries 4-octet ASNs.
    pub four_octet_as: bool,
}
