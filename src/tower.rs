//! The tower adapter (feature `tower`): filled in by issue 3.
