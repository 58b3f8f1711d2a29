//! `/o/login/mfa/`: the second step of signing in, for an account with a second factor. The
//! password (or other first step) was right; no session exists until a TOTP code or a
//! recovery code, or a passkey (with JavaScript), is given here. `next` is kept, so an authorization request resumes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::factors::second_step_context,
    components::{forms::SecondStepForm, passkey::PasskeyForm, ErrorBanner, Layout, Loading},
    i18n::t,
    web::query::query_value,
};

/// The second step's page.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    let next = move || location.search.with(|s| query_value(s, "next").unwrap_or_default());
    let error_from_url = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let context = Resource::new_blocking(|| (), |_| second_step_context());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.security_title, t.site_title)/>
        <Layout labelled_by="mfa-title">
            <h1 id="mfa-title">{t.security_title}</h1>
            <p class="muted">{t.second_step_intro}</p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(ctx) => {
                        let passkey_csrf = ctx.csrf.clone();
                        let remember = (ctx.remember_days > 0).then(|| view! {
                            <label class="check">
                                <input type="checkbox" name="remember" value="on"/>
                                {t.remember_browser.0}{ctx.remember_days}{t.remember_browser.1}
                            </label>
                        });
                        view! {
                            <SecondStepForm class="form" labelled_by="mfa-title" error=error_from_url()>
                                <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                                <input type="hidden" name="next" value=next/>
                                <label for="code">{t.code}</label>
                                <input id="code" name="code" type="text" autocomplete="one-time-code" required autofocus/>
                                {remember}
                                <button type="submit" class="primary">{t.verify}</button>
                            </SecondStepForm>
                            {ctx.passkey.then(|| view! {
                                <PasskeyForm kind="authenticate" id="passkey-second-step" options="/api/login/mfa/passkey/options"
                                    action="/api/login/mfa/passkey" csrf=passkey_csrf.clone() label=t.use_passkey>
                                    <input type="hidden" name="next" value=next/>
                                </PasskeyForm>
                            })}
                            <p class="muted"><a href="/o/login/" rel="external">{t.back_to_sign_in}</a></p>
                        }.into_any()
                    }
                }})}
            </Suspense>
        </Layout>
    }
}
