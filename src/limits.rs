//! Every limit and default of the crate, in one place. Each is defined next
//! to the rule it bounds and re-exported here.

pub use crate::chunks::{DEFAULT_HEADER_BUDGET, MAX_CHUNKS};
pub use crate::codec::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_LEEWAY, DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE,
    MAX_COOKIE_SIZE_CEILING,
};
pub use crate::config::MAX_COOKIE_AGE;
pub use crate::cookies::MAX_SESSION_COOKIES_TRIED;
pub use crate::envelope::MAX_TIME;
pub use crate::keyring::{BASE64_SECRET_PREFIX, MIN_SECRET_LEN};
pub use crate::payload::MAX_NESTING;
pub use crate::wire::DEFAULT_COOKIE_NAME;
