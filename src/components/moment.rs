//! Moments on a page: written in UTC by the server, inside a `<time>` that
//! `public/local-time.js` (linked by the shell) rewrites in the reader's time zone.

use leptos::prelude::*;

use crate::{
    i18n::{ago, t},
    view::Moment,
};

/// A moment as a date and time: UTC until the script has run, then the reader's local time.
#[component]
pub fn LocalTime(
    /// The moment.
    at: Moment,
) -> impl IntoView {
    view! { <time datetime=at.iso data-local="">{at.text}</time> }
}

/// How long before the page a moment was ("2 minutes ago"), with the date and time as its
/// title; past a month, the date and time themselves ([`LocalTime`]).
#[component]
pub fn TimeAgo(
    /// The moment.
    at: Moment,
) -> impl IntoView {
    match ago(t(), at.age) {
        Some(text) => view! { <time datetime=at.iso title=at.text data-ago="">{text}</time> }.into_any(),
        None => view! { <LocalTime at/> }.into_any(),
    }
}
