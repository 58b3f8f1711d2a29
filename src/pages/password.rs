//! Forgot password: `/o/password/forgot/` asks for a verified email address or phone number;
//! `/o/password/reset/` takes the code sent to it (`?to=…`) or the mail's link (`?token=…`)
//! and a new password. Both say the same whether or not an account uses the address.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        auth::login_context,
        contacts::reset_context,
        error::{error_for_code, error_text},
    },
    components::{
        captcha::CaptchaField,
        forms::{ForgotForm, ResetForm},
        ErrorBanner, Layout, Loading,
    },
    i18n::t,
};

/// The form that asks for a reset.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let query = use_query_map();
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let context = Resource::new_blocking(|| (), |_| login_context());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.forgot_title, t.site_title)/>
        <Layout labelled_by="forgot-title">
            <h1 id="forgot-title">{t.forgot_title}</h1>
            <p class="muted">{t.forgot_intro}</p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(ctx) => view! {
                        <ForgotForm class="form" error=url_error()>
                            <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                            <label for="address">{t.email_or_phone}</label>
                            <input id="address" name="address" type="text" autocomplete="username" required autofocus/>
                            <CaptchaField widget=ctx.captcha.clone()/>
                            <button type="submit" class="primary">{t.send_reset}</button>
                        </ForgotForm>
                        <p class="muted"><a href="/o/login/">{t.back_to_sign_in}</a></p>
                    }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

/// The form that sets the new password.
#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let location = leptos_router::hooks::use_location();
    let to = move || location.search.with(|s| crate::web::query::query_value(s, "to").unwrap_or_default());
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let context = Resource::new_blocking(token, reset_context);
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.reset_title, t.site_title)/>
        <Layout labelled_by="reset-title">
            <h1 id="reset-title">{t.reset_title}</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    // A link that is no longer good, or neither a link nor an address.
                    Ok(ctx) if ctx.address.is_none() && (to().is_empty() || !token().is_empty()) => view! {
                        <ErrorBanner message=t.err_stale_link.to_owned()/>
                        <p><a href="/o/password/forgot/">{t.forgot_title}</a></p>
                    }.into_any(),
                    Ok(ctx) => {
                        let by_link = ctx.address.clone();
                        let intro = match &by_link {
                            Some(address) => view! { <p>{t.reset_for} <strong>{address.clone()}</strong></p> }.into_any(),
                            None => view! { <p class="notice" role="status">{t.reset_sent}</p> }.into_any(),
                        };
                        let code = by_link.is_none().then(|| view! {
                            <input type="hidden" name="to" value=to()/>
                            <label for="code">{t.code}</label>
                            <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required/>
                        });
                        view! {
                            {intro}
                            <ResetForm class="form" error=url_error()>
                                <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                                {by_link.is_some().then(|| view! { <input type="hidden" name="token" value=token()/> })}
                                {code}
                                <label for="password">{t.new_password_hint}</label>
                                <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required/>
                                <button type="submit" class="primary">{t.set_new_password}</button>
                            </ResetForm>
                        }.into_any()
                    }
                }})}
            </Suspense>
        </Layout>
    }
}
