//! `/account/security`: two-step verification. Set up an authenticator app (a QR code rendered
//! on the server and the key as text, confirmed by a first code), see the recovery codes once,
//! see the factors and when they were last used, remove one (password and a current code),
//! make new recovery codes; register passkeys (with JavaScript), see and remove them. Every form reloads the page with `?done=…` or `?error=…`, so it
//! works the same without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::factors::load_security,
    components::{
        forms::{ConfirmTotpForm, RegenerateCodesForm, RemoveFactorForm, StartTotpForm},
        moment::{LocalTime, TimeAgo},
        passkey::PasskeyForm,
        ErrorBanner, Layout, Loading, Notice,
    },
    i18n::{done_text, t},
    view::{EnrolmentView, FactorItem, PasskeyItem, SecurityView},
};

/// The security page.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new_blocking(|| (), |_| load_security());
    let notice = move || query.with(|q| q.get("done")).and_then(|c| done_text(&c));
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.security_title, t.site_title)/>
        <Layout labelled_by="security-title" wide=true>
            <h1 id="security-title">{t.security_title}</h1>
            <p class="muted">{t.security_intro} " " <a href="/account">{t.account_title}</a></p>
            {move || notice().map(|message| view! { <Notice message/> })}
            {move || url_error().map(|message| view! { <ErrorBanner message/> })}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <Sections v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn Sections(v: SecurityView) -> impl IntoView {
    let t = t();
    let new_codes = (!v.new_codes.is_empty()).then(|| {
        let codes = v.new_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view();
        view! {
            <h2 id="new-codes">{t.recovery_codes}</h2>
            <p class="notice" role="status">{t.recovery_codes_new}</p>
            <ul class="recovery-codes" aria-labelledby="new-codes">{codes}</ul>
        }
    });
    let has_factor = !v.factors.is_empty();
    let factors = if has_factor {
        let rows = v
            .factors
            .into_iter()
            .map(|f| view! { <FactorRow f csrf=v.csrf.clone() has_password=v.has_password/> })
            .collect_view();
        view! { <ul class="rows" aria-labelledby="factors">{rows}</ul> }.into_any()
    } else {
        view! { <p class="muted">{t.no_factors}</p> }.into_any()
    };
    let enrol = match v.enrolment {
        Some(e) => view! { <Enrol e csrf=v.csrf.clone()/> }.into_any(),
        None => {
            let csrf = v.csrf.clone();
            (!has_factor)
                .then(move || {
                    view! {
                        <StartTotpForm>
                            <input type="hidden" name="csrf" value=csrf/>
                            <button type="submit" class="primary">{t.set_up_authenticator}</button>
                        </StartTotpForm>
                    }
                })
                .into_any()
        }
    };
    let passkeys = v.passkeys_offered.then(|| {
        view! { <Passkeys passkeys=v.passkeys csrf=v.csrf.clone() has_password=v.has_password/> }
    });
    let recovery = has_factor.then(|| {
        view! {
            <h2 id="recovery">{t.recovery_codes}</h2>
            <p class="muted">{t.recovery_left} <strong class="recovery-left">{v.recovery_left}</strong></p>
            <RegenerateCodesForm class="form" labelled_by="recovery">
                <input type="hidden" name="csrf" value=v.csrf.clone()/>
                <label for="regenerate_code">{t.current_code}</label>
                <input id="regenerate_code" name="code" type="text" autocomplete="one-time-code" required/>
                <button type="submit">{t.regenerate_codes}</button>
            </RegenerateCodesForm>
        }
    });
    view! {
        {new_codes}
        <h2 id="factors">{t.authenticator_app}</h2>
        {factors}
        {enrol}
        {recovery}
        {passkeys}
    }
}

/// The account's passkeys, each with its removal form (a plain post, which needs no script),
/// and the form that registers another.
#[component]
fn Passkeys(passkeys: Vec<PasskeyItem>, csrf: String, has_password: bool) -> impl IntoView {
    let t = t();
    let list = if passkeys.is_empty() {
        view! { <p class="muted">{t.no_passkeys}</p> }.into_any()
    } else {
        let rows =
            passkeys.into_iter().map(|p| view! { <PasskeyRow p csrf=csrf.clone() has_password/> }).collect_view();
        view! { <ul class="rows" aria-labelledby="passkeys">{rows}</ul> }.into_any()
    };
    view! {
        <h2 id="passkeys">{t.passkeys}</h2>
        <p class="muted">{t.passkeys_intro}</p>
        {list}
        <PasskeyForm kind="register" id="passkey-add" options="/api/account/security/passkey/options"
            action="/api/account/security/passkey" csrf=csrf label=t.add_passkey>
            <label for="passkey_name">{t.passkey_name}</label>
            <input id="passkey_name" name="name" type="text" maxlength="60" required/>
        </PasskeyForm>
    }
}

/// One passkey: its name, when it was added and last used, and its removal (the password).
#[component]
fn PasskeyRow(p: PasskeyItem, csrf: String, has_password: bool) -> impl IntoView {
    let t = t();
    let used = p.last_used_at.map(|at| view! { {t.last_used} <TimeAgo at/> });
    let password_id = format!("remove_passkey_password_{}", p.id);
    let label = format!("{} {}", t.remove, p.name);
    let password = if has_password {
        view! {
            <label for=password_id.clone()>{t.your_password}</label>
            <input id=password_id name="password" type="password" autocomplete="current-password" required/>
        }
        .into_any()
    } else {
        view! { <input type="hidden" name="password" value=""/> }.into_any()
    };
    view! {
        <li class="row factor passkey" data-kind="passkey">
            <div>
                <strong class="passkey-name">{p.name}</strong>
                <div class="muted">{t.added_at} <LocalTime at=p.added_at/> {used}</div>
            </div>
            <form class="form" method="post" action="/api/account/security/passkey/remove">
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="passkey_id" value=p.id.to_string()/>
                {password}
                <button type="submit" class="danger" aria-label=label>{t.remove}</button>
            </form>
        </li>
    }
}

/// The enrolment in progress: the QR code, the key, and the first code.
#[component]
fn Enrol(e: EnrolmentView, csrf: String) -> impl IntoView {
    let t = t();
    view! {
        <h2 id="enrol">{t.set_up_authenticator}</h2>
        <p>{t.enrol_scan}</p>
        <div class="qr" role="img" aria-label=t.qr_label inner_html=e.qr_svg></div>
        <p>{t.secret_key} ": " <code class="totp-secret">{e.secret}</code></p>
        <ConfirmTotpForm class="form" labelled_by="enrol">
            <input type="hidden" name="csrf" value=csrf/>
            <label for="enrol_code">{t.app_code}</label>
            <input id="enrol_code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus/>
            <button type="submit" class="primary">{t.confirm}</button>
        </ConfirmTotpForm>
    }
}

/// One confirmed factor, with its removal form.
#[component]
fn FactorRow(f: FactorItem, csrf: String, has_password: bool) -> impl IntoView {
    let t = t();
    let used = f.last_used_at.map(|at| view! { {t.last_used} <TimeAgo at/> });
    let (password_id, code_id) = (format!("remove_password_{}", f.id), format!("remove_code_{}", f.id));
    let password = if has_password {
        view! {
            <label for=password_id.clone()>{t.your_password}</label>
            <input id=password_id name="password" type="password" autocomplete="current-password" required/>
        }
        .into_any()
    } else {
        view! { <input type="hidden" name="password" value=""/> }.into_any()
    };
    view! {
        <li class="row factor" data-kind=f.kind.clone()>
            <div>
                <strong>{t.authenticator_app}</strong>
                <div class="muted">{t.added_at} <LocalTime at=f.added_at/> {used}</div>
            </div>
            <RemoveFactorForm class="form">
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="factor_id" value=f.id.to_string()/>
                {password}
                <label for=code_id.clone()>{t.current_code}</label>
                <input id=code_id name="code" type="text" autocomplete="one-time-code" required/>
                <button type="submit" class="danger">{t.remove}</button>
            </RemoveFactorForm>
        </li>
    }
}
