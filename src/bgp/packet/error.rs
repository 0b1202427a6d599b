//! Decoding errors, each mapped to the NOTIFICATION code and subcode RFC 4271 §6 prescribes.
//!
//! Pure data: depends only on `iana`; no I/O, no session state.

use super::iana::err;

/// Why a received message was rejected. Every variant knows the NOTIFICATION it causes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// §6.1: the marker is not all ones.
    #[error("message header marker is not all ones")]
    ConnectionNotSynchronized,
    /// §6.1: the length field is out of range or wrong for the message type.
    #[error("bad message length {0}")]
    BadMessageLength(u16),
    /// §6.1: unknown message type.
    #[error("bad message type {0}")]
    BadMessageType(u8),
    /// §6.2: version other than 4.
    #[error("unsupported BGP version {0}")]
    UnsupportedVersion(u8),
    /// §6.2: the BGP identifier is not a valid unicast address (e.g. 0.0.0.0).
    #[error("bad BGP identifier {0}")]
    BadBgpIdentifier(std::net::Ipv4Addr),
    /// §6.2: an optional parameter type we do not know.
    #[error("unsupported optional parameter type {0}")]
    UnsupportedOptionalParameter(u8),
    /// §6.2: hold time of 1 or 2 seconds.
    #[error("unacceptable hold time {0}")]
    UnacceptableHoldTime(u16),
    /// §6.2: optional parameters or capabilities that do not add up.
    #[error("malformed OPEN optional parameters")]
    MalformedOpen,
    /// §6.3: lengths inside the UPDATE do not add up, or an attribute repeats.
    #[error("malformed attribute list")]
    MalformedAttributeList,
    /// §6.3: a well-known attribute we do not recognise.
    #[error("unrecognized well-known attribute {type_code}")]
    UnrecognizedWellKnown { type_code: u8, data: Vec<u8> },
    /// §6.3: ORIGIN, AS_PATH or NEXT_HOP missing from an UPDATE carrying NLRI.
    #[error("missing well-known attribute {0}")]
    MissingWellKnown(u8),
    /// §6.3: flags conflict with the attribute type.
    #[error("attribute flags error for type {type_code}")]
    AttributeFlags { type_code: u8, data: Vec<u8> },
    /// §6.3: the attribute length is wrong for its type.
    #[error("attribute length error for type {type_code}")]
    AttributeLength { type_code: u8, data: Vec<u8> },
    /// §6.3: ORIGIN value other than 0, 1, 2.
    #[error("invalid ORIGIN attribute")]
    InvalidOrigin(Vec<u8>),
    /// §6.3: NEXT_HOP is not a usable unicast address.
    #[error("invalid NEXT_HOP attribute")]
    InvalidNextHop(Vec<u8>),
    /// §6.3: a recognised optional attribute with a bad value.
    #[error("optional attribute error for type {type_code}")]
    OptionalAttribute { type_code: u8, data: Vec<u8> },
    /// §6.3: an NLRI or withdrawn prefix is syntactically wrong.
    #[error("invalid network field")]
    InvalidNetworkField,
    /// §6.3: AS_PATH is syntactically wrong.
    #[error("malformed AS_PATH")]
    MalformedAsPath,
    /// §6.3: an attribute appears more than once (RFC 7606 §3(g): later copies are
    /// discarded, except for MP_REACH_NLRI / MP_UNREACH_NLRI).
    #[error("attribute {0} appears more than once")]
    DuplicateAttribute(u8),
    /// RFC 7606 §7.5: LOCAL_PREF is for internal peers only. Never a NOTIFICATION: the
    /// session discards the attribute.
    #[error("LOCAL_PREF received from an external peer")]
    LocalPrefFromExternalPeer,
}

/// Why a message could not be encoded: a length that does not fit its field. Every length
/// on the encode path is checked; none is cut short silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("{what} is {len} octets, more than the {max} its length field allows")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

impl EncodeError {
    /// `len` as a one-octet length field, or `TooLong` naming `what`.
    pub(crate) fn fit_u8(what: &'static str, len: usize) -> Result<u8, EncodeError> {
        u8::try_from(len).map_err(|_| EncodeError::TooLong {
            what,
            len,
            max: usize::from(u8::MAX),
        })
    }

    /// `len` as a two-octet length field, or `TooLong` naming `what`.
    pub(crate) fn fit_u16(what: &'static str, len: usize) -> Result<u16, EncodeError> {
        u16::try_from(len).map_err(|_| EncodeError::TooLong {
            what,
            len,
            max: usize::from(u16::MAX),
        })
    }
}

/// How a receiver handles a malformed UPDATE (RFC 7606 §2), least severe first: when one
/// UPDATE has several errors, the most severe approach applies (RFC 7606 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorAction {
    /// "Attribute discard": the attribute is dropped, the rest of the UPDATE is used.
    AttributeDiscard,
    /// "Treat-as-withdraw": every prefix the UPDATE announces is withdrawn instead.
    TreatAsWithdraw,
    /// "Session reset": NOTIFICATION and close (RFC 4271 §6.3), where RFC 7606 keeps it.
    SessionReset,
}

impl ErrorAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorAction::AttributeDiscard => "attribute discarded",
            ErrorAction::TreatAsWithdraw => "treat-as-withdraw",
            ErrorAction::SessionReset => "session reset",
        }
    }
}

/// One error in a received UPDATE that RFC 7606 handles without closing the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateFault {
    pub action: ErrorAction,
    pub error: DecodeError,
}

impl std::fmt::Display for UpdateFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, RFC 7606)", self.error, self.action.as_str())
    }
}

/// The code, subcode and data of a NOTIFICATION.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: u8,
    pub subcode: u8,
}

impl DecodeError {
    /// The NOTIFICATION code and subcode this error must be answered with.
    pub fn code(&self) -> ErrorCode {
        use DecodeError::*;
        let (code, subcode) = match self {
            ConnectionNotSynchronized => (err::MESSAGE_HEADER, err::CONNECTION_NOT_SYNCHRONIZED),
            BadMessageLength(_) => (err::MESSAGE_HEADER, err::BAD_MESSAGE_LENGTH),
            BadMessageType(_) => (err::MESSAGE_HEADER, err::BAD_MESSAGE_TYPE),
            UnsupportedVersion(_) => (err::OPEN_MESSAGE, err::UNSUPPORTED_VERSION),
            BadBgpIdentifier(_) => (err::OPEN_MESSAGE, err::BAD_BGP_IDENTIFIER),
            UnsupportedOptionalParameter(_) => {
                (err::OPEN_MESSAGE, err::UNSUPPORTED_OPTIONAL_PARAMETER)
            }
            UnacceptableHoldTime(_) => (err::OPEN_MESSAGE, err::UNACCEPTABLE_HOLD_TIME),
            MalformedOpen => (err::OPEN_MESSAGE, 0),
            MalformedAttributeList | DuplicateAttribute(_) | LocalPrefFromExternalPeer => {
                (err::UPDATE_MESSAGE, err::MALFORMED_ATTRIBUTE_LIST)
            }
            UnrecognizedWellKnown { .. } => {
                (err::UPDATE_MESSAGE, err::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE)
            }
            MissingWellKnown(_) => (err::UPDATE_MESSAGE, err::MISSING_WELL_KNOWN_ATTRIBUTE),
            AttributeFlags { .. } => (err::UPDATE_MESSAGE, err::ATTRIBUTE_FLAGS_ERROR),
            AttributeLength { .. } => (err::UPDATE_MESSAGE, err::ATTRIBUTE_LENGTH_ERROR),
            InvalidOrigin(_) => (err::UPDATE_MESSAGE, err::INVALID_ORIGIN_ATTRIBUTE),
            InvalidNextHop(_) => (err::UPDATE_MESSAGE, err::INVALID_NEXT_HOP_ATTRIBUTE),
            OptionalAttribute { .. } => (err::UPDATE_MESSAGE, err::OPTIONAL_ATTRIBUTE_ERROR),
            InvalidNetworkField => (err::UPDATE_MESSAGE, err::INVALID_NETWORK_FIELD),
            MalformedAsPath => (err::UPDATE_MESSAGE, err::MALFORMED_AS_PATH),
        };
        ErrorCode { code, subcode }
    }

    /// The NOTIFICATION data field the RFC asks for with this error.
    pub fn data(&self) -> Vec<u8> {
        use DecodeError::*;
        match self {
            BadMessageLength(len) => len.to_be_bytes().to_vec(),
            BadMessageType(t) => vec![*t],
            // §6.2: the largest locally supported version.
            UnsupportedVersion(_) => u16::from(super::iana::BGP_VERSION).to_be_bytes().to_vec(),
            MissingWellKnown(t) => vec![*t],
            UnrecognizedWellKnown { data, .. }
            | AttributeFlags { data, .. }
            | AttributeLength { data, .. }
            | OptionalAttribute { data, .. }
            | InvalidOrigin(data)
            | InvalidNextHop(data) => data.clone(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_errors_map_to_code_1() {
        assert_eq!(
            DecodeError::BadMessageType(9).code(),
            ErrorCode {
                code: 1,
                subcode: 3
            }
        );
        assert_eq!(DecodeError::BadMessageLength(5000).data(), vec![0x13, 0x88]);
    }

    #[test]
    fn update_errors_map_to_code_3() {
        assert_eq!(
            DecodeError::MalformedAsPath.code(),
            ErrorCode {
                code: 3,
                subcode: 11
            }
        );
        assert_eq!(DecodeError::MissingWellKnown(1).data(), vec![1]);
    }
}
