//! One Leptos page per module.

pub mod account;
pub mod admin;
pub mod admin_groups;
pub mod admin_user;
pub mod apps;
pub mod consent;
pub mod contacts;
pub mod device;
pub mod home;
pub mod login;
pub mod login_finish;
pub mod login_mfa;
pub mod logout;
pub mod not_found;
pub mod password;
pub mod register;
pub mod security;
pub mod verify;
