//! Moving from django-oauth-toolkit: Django's password hash formats, and the reader of a
//! Django database's users, applications and tokens (read-only) that `yaoshi import django`
//! ([`crate::service::django_import`]) copies into Yaoshi's store.

pub mod hash;
pub mod source;
