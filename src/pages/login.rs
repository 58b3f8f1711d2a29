//! `/o/login/`: the sign-in form the authorize endpoint sends logged-out users to.
//!
//! Without JavaScript the form posts to the `login` server function and the browser follows its
//! 303; with the WASM loaded it submits in place, shows errors inline, then navigates (the
//! [`LoginForm`] island).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::auth::login_context,
    components::{
        captcha::CaptchaField,
        forms::{LoginForm, PhoneLoginForm, SendCodeForm},
        passkey::PasskeyForm,
        ErrorBanner, Layout, Loading, Notice,
    },
    i18n::{done_text, t},
    view::{CaptchaWidget, ProviderLink},
    web::query::{query_value, urlencode},
};

/// The sign-in page. `next` is where to continue after signing in; `login_hint` (from the app
/// that sent the user here, OIDC Core §3.1.2.1) pre-fills the username.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    let next = move || location.search.with(|s| query_value(s, "next").unwrap_or_default());
    let login_hint = move || query.with(|q| q.get("login_hint").unwrap_or_default());
    let raw_next = move || urlencode(&next());
    let error_from_url = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let notice = move || query.with(|q| q.get("done")).and_then(|c| done_text(&c));
    let by_phone = move || query.with(|q| q.get("method")).as_deref() == Some("phone");
    let phone = move || location.search.with(|s| query_value(s, "phone").unwrap_or_default());
    let context = Resource::new_blocking(|| (), |_| login_context());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.sign_in, t.site_title)/>
        <Layout labelled_by="login-title">
            <h1 id="login-title">{t.sign_in}</h1>
            {move || notice().map(|message| view! { <Notice message/> })}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(ctx) => { let passkey_csrf = ctx.csrf.clone(); view! {
                        {ctx.signed_in_as.map(|name| view! {
                            <p class="muted">{t.signed_in_switch.0} <strong>{name}</strong> {t.signed_in_switch.1}</p>
                        })}
                        <MethodTabs shown=ctx.phone_sign_in by_phone=by_phone() next=raw_next()/>
                        {if ctx.phone_sign_in && by_phone() {
                            view! { <PhoneSignIn csrf=ctx.csrf.clone() next=next() phone=phone() captcha=ctx.captcha.clone() error=error_from_url()/> }.into_any()
                        } else {
                            view! {
                            <LoginForm class="form" error=error_from_url()>
                                <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                                <input type="hidden" name="next" value=next/>
                                <label for="username">{t.username_or_email}</label>
                                <input id="username" name="username" type="text" autocomplete="username" required autofocus value=login_hint/>
                                <label for="password">{t.password}</label>
                                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                                <button type="submit" class="primary">{t.sign_in}</button>
                            </LoginForm>
                                <p class="muted"><a href="/o/password/forgot/">{t.forgot_password}</a></p>
                            }.into_any()
                        }}
                        {ctx.passkeys.then(|| view! {
                            <PasskeyForm kind="authenticate" id="passkey-sign-in" options="/api/login/passkey/options"
                                action="/api/login/passkey" csrf=passkey_csrf.clone() label=t.sign_in_with_passkey>
                                <input type="hidden" name="next" value=next/>
                            </PasskeyForm>
                        })}
                        <ProviderLinks providers=ctx.providers next=raw_next()/>
                        {ctx.registration_open.then(|| view! {
                            <p class="muted">{t.new_here} <a href=format!("/o/register/?next={}", urlencode(&next()))>{t.create_account}</a></p>
                        })}
                    }.into_any() },
                }})}
            </Suspense>
        </Layout>
    }
}

/// The value of `name` in a raw query string, still percent-encoded.
///
/// The router's query map decodes values twice on the server (`ParamsMap::insert` unescapes
/// what `query_pairs` already decoded), which would turn an encoded `&` or `%` inside `next`
/// into a separator; passing the encoded value on as it came avoids that.
/// "Sign in with …" for each provider: plain links to `/o/login/start/<id>` (outside the
/// router, so they work without JavaScript), carrying `next` (`raw_next`: encoded for a query).
#[component]
fn ProviderLinks(providers: Vec<ProviderLink>, next: String) -> impl IntoView {
    let t = t();
    (!providers.is_empty()).then(|| {
        let links = providers
            .into_iter()
            .map(|p| {
                let href = format!("/o/login/start/{}?next={next}", urlencode(&p.id));
                let locale = use_context::<crate::i18n::Locale>().unwrap_or_default();
                let label = format!("{}{}{}", t.sign_in_with.0, p.label(locale), t.sign_in_with.1);
                let icon = p.icon.map(|i| {
                    view! { <img class="provider-icon" src=format!("/providers/{i}.svg") alt="" width="20" height="20"/> }
                });
                view! { <a class="button provider" rel="external" href=href>{icon}<span>{label}</span></a> }
            })
            .collect_view();
        view! { <div class="providers">{links}</div> }
    })
}

/// "Password | Phone code": plain links between the two ways of signing in, keeping `next`
/// (`next`: encoded for a query).
#[component]
fn MethodTabs(
    /// Whether phone sign-in is offered at all.
    shown: bool,
    /// Whether the phone tab is the one shown.
    by_phone: bool,
    /// `next`, encoded.
    next: String,
) -> impl IntoView {
    let t = t();
    shown.then(|| {
        let current = |on: bool| if on { Some("page") } else { None };
        view! {
            <nav class="tabs" aria-label=t.sign_in>
                <a href=format!("/o/login/?next={next}") aria-current=current(!by_phone)>{t.with_password}</a>
                <a href=format!("/o/login/?method=phone&next={next}") aria-current=current(by_phone)>{t.with_phone}</a>
            </nav>
        }
    })
}

/// Signing in by SMS: the number, then (once a code was sent to `phone`) the code.
#[component]
fn PhoneSignIn(
    /// The page's CSRF token.
    csrf: String,
    /// Where to continue after signing in.
    next: String,
    /// The number a code was sent to, or empty.
    phone: String,
    /// The CAPTCHA the sending forms carry.
    captcha: Option<CaptchaWidget>,
    /// The `?error=…` the page came with.
    error: Option<String>,
) -> impl IntoView {
    let t = t();
    if phone.is_empty() {
        return view! {
            <SendCodeForm class="form" error>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="next" value=next/>
                <label for="phone">{t.phone_number}</label>
                <input id="phone" name="phone" type="tel" autocomplete="tel" required autofocus aria-describedby="phone-hint"/>
                <span id="phone-hint" class="muted">{t.phone_hint}</span>
                <CaptchaField widget=captcha/>
                <button type="submit" class="primary">{t.send_code}</button>
            </SendCodeForm>
        }
        .into_any();
    }
    let another = format!("/o/login/?method=phone&next={}", urlencode(&next));
    let (csrf_again, next_again, phone_again, phone_shown) = (csrf.clone(), next.clone(), phone.clone(), phone.clone());
    view! {
        <p class="muted">{t.code_sent_to} <strong class="address">{phone_shown}</strong></p>
        <PhoneLoginForm class="form" error>
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="next" value=next/>
            <input type="hidden" name="phone" value=phone/>
            <label for="code">{t.code}</label>
            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus/>
            <button type="submit" class="primary">{t.sign_in}</button>
        </PhoneLoginForm>
        <SendCodeForm class="inline">
            <input type="hidden" name="csrf" value=csrf_again/>
            <input type="hidden" name="next" value=next_again/>
            <input type="hidden" name="phone" value=phone_again/>
            <CaptchaField widget=captcha/>
            <button type="submit">{t.send_code_again}</button>
        </SendCodeForm>
        <p class="muted"><a href=another>{t.use_another_number}</a></p>
    }
    .into_any()
}
