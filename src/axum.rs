//! The axum adapter (feature `axum`): filled in by issue 3.
