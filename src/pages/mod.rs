//! One Leptos page per module.

pub mod login;
pub mod not_found;
