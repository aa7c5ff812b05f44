//! Listing actions (in progress).
