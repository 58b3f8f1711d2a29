//! The account page's "Email and phone" section: each address with whether it is verified, a
//! form for the code sent to it, and sending it again. Works without JavaScript.

use leptos::prelude::*;

use crate::{
    components::forms::{PhoneForm, SendVerificationForm, VerifyContactForm},
    i18n::t,
};

/// One contact's state, for the section.
#[derive(Clone, Debug)]
pub struct Contacts {
    /// The CSRF token of the forms.
    pub csrf: String,
    /// Email address, or empty.
    pub email: String,
    /// Whether it is verified.
    pub email_verified: bool,
    /// Phone number, or empty.
    pub phone: String,
    /// Whether it is verified.
    pub phone_verified: bool,
    /// Another account verified an address this one had claimed.
    pub claim_dropped: bool,
}

/// The section.
#[component]
pub fn ContactSection(
    /// The account's contacts.
    c: Contacts,
) -> impl IntoView {
    let t = t();
    let badge = move |verified: bool| {
        let (class, text) = if verified { ("badge ok", t.verified) } else { ("badge warn", t.not_verified) };
        view! { <span class=class>{text}</span> }
    };
    let email = (!c.email.is_empty()).then(|| {
        let pending = (!c.email_verified).then(|| view! { <Pending csrf=c.csrf.clone() which="email"/> });
        view! {
            <li class="row contact" data-contact="email">
                <div><strong>{t.email}</strong> " " <span class="address">{c.email.clone()}</span> " " {badge(c.email_verified)}</div>
                {pending}
            </li>
        }
    });
    let phone = (!c.phone.is_empty()).then(|| {
        let pending = (!c.phone_verified).then(|| view! { <Pending csrf=c.csrf.clone() which="phone"/> });
        view! {
            <li class="row contact" data-contact="phone">
                <div><strong>{t.phone_number}</strong> " " <span class="address">{c.phone.clone()}</span> " " {badge(c.phone_verified)}</div>
                {pending}
            </li>
        }
    });
    view! {
        <h2 id="contacts">{t.contacts_title}</h2>
        {c.claim_dropped.then(|| view! { <p class="notice" role="status">{t.claim_dropped}</p> })}
        {(email.is_some() || phone.is_some()).then(|| view! { <ul class="rows" aria-labelledby="contacts">{email}{phone}</ul> })}
        <PhoneForm class="form" labelled_by="contacts">
            <input type="hidden" name="csrf" value=c.csrf.clone()/>
            <label for="phone">{t.phone_number}</label>
            <input id="phone" name="phone" type="tel" autocomplete="tel" value=c.phone.clone() aria-describedby="phone-hint"/>
            <span id="phone-hint" class="muted">{t.phone_hint}</span>
            <button type="submit">{t.save_phone}</button>
        </PhoneForm>
    }
}

/// The forms under an unverified contact: its code, and sending it again.
#[component]
fn Pending(
    /// The CSRF token of the forms.
    csrf: String,
    /// `email` or `phone`.
    which: &'static str,
) -> impl IntoView {
    let t = t();
    let id = format!("{which}-code");
    let again = if which == "email" { t.send_link_again } else { t.send_code_again };
    let csrf_again = csrf.clone();
    view! {
        <div class="actions">
            <VerifyContactForm class="inline">
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="which" value=which/>
                <label for=id.clone()>{t.code}</label>
                <input id=id name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,8}" required/>
                <button type="submit" class="primary">{t.verify}</button>
            </VerifyContactForm>
            <SendVerificationForm class="inline">
                <input type="hidden" name="csrf" value=csrf_again/>
                <input type="hidden" name="which" value=which/>
                <button type="submit">{again}</button>
            </SendVerificationForm>
        </div>
    }
}
