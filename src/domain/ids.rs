//! Typed ids: an event's id is not a registration's, so a handler that takes both cannot
//! pass them the wrong way round (`Path<(EventId, RegistrationId)>`). On the wire each is
//! a plain integer; the store keeps them as such.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($($(#[$m:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id!(
    /// One dated event (each occurrence of a repetition has its own).
    EventId,
    /// One person's (or family's) registration for one event.
    RegistrationId,
    /// A support request; a helper's case is the request they accepted.
    RequestId,
    /// An offer of a request to one helper.
    OfferId,
    /// An application to become a helper.
    ApplicationId,
    /// A message in the outbox.
    MessageId,
    /// A personal API token.
    TokenId,
);
