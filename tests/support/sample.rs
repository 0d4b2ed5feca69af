//! The sample session shared by `tests/size_comparison.rs`,
//! `tests/allocations.rs` and the benchmarks, so that every size, allocation
//! count and timing in the README is about the same value: a user id, an
//! email, two roles, a 32-byte CSRF token and a cart.
//!
//! Included with `#[path]` (it is not a test of its own).

use serde::{Deserialize, Serialize};

/// The session every size, allocation and speed measurement carries.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// A numeric user id.
    pub user_id: u64,
    /// The user's email address.
    pub email: String,
    /// Two role names.
    pub roles: Vec<String>,
    /// A 32-byte CSRF token.
    pub csrf_token: [u8; 32],
    /// The shopping cart.
    pub cart: Vec<CartItem>,
}

/// One line of the cart.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct CartItem {
    /// Stock-keeping unit.
    pub sku: String,
    /// Quantity.
    pub qty: u32,
}

/// The session with `cart_items` items: 5 is the typical session, 60 the
/// large one.
pub fn session(cart_items: u32) -> Session {
    Session {
        user_id: 48_213,
        email: "ada@example.com".into(),
        roles: vec!["customer".into(), "beta".into()],
        csrf_token: [0x5a; 32],
        cart: (1..=cart_items)
            .map(|i| CartItem {
                sku: format!("SKU-{:05}", i * 137),
                qty: i,
            })
            .collect(),
    }
}
