//! The passkey forms: plain HTML that `public/passkey.js` takes over (never part of the WASM
//! bundle). A form is `hidden` until the script shows it; until then the note beside it says
//! that passkeys need JavaScript, which is also what a browser without WebAuthn keeps showing.

use leptos::prelude::*;

use crate::i18n::t;

/// A passkey ceremony's form: `kind` is `register` or `authenticate`; the script asks
/// `options` for the ceremony, then posts the authenticator's answer to `action`.
#[component]
pub fn PasskeyForm(
    /// `register` or `authenticate`.
    kind: &'static str,
    /// The server function that starts the ceremony.
    options: &'static str,
    /// The server function that takes the answer.
    action: &'static str,
    /// The page's CSRF token.
    csrf: String,
    /// The submit button's text.
    label: &'static str,
    /// The form's id (tests and labels find it by it).
    id: &'static str,
    /// Fields of the form's own (a name, `next`).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let t = t();
    view! {
        <p class="muted passkey-note" data-passkey-unsupported="">{t.passkey_needs_script}</p>
        <form id=id class="form passkey" method="post" action=action data-passkey=kind data-options=options hidden>
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="ceremony" value=""/>
            <input type="hidden" name="credential" value=""/>
            {children.map(|c| c())}
            <p class="error" role="alert" data-passkey-error="" hidden>{t.passkey_failed}</p>
            <button type="submit">{label}</button>
        </form>
    }
}
