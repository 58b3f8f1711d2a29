//! `/o/register/`: opening an account (when the operator allows it). Errors appear beside the
//! field they concern.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::{auth::login_context, error::AppError, register::Register},
    components::{follow, ErrorBanner, Layout, Loading},
    i18n::t,
};

/// The sign-up page.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let query = use_query_map();
    let location = leptos_router::hooks::use_location();
    let next = move || location.search.with(|s| crate::web::query::query_value(s, "next").unwrap_or_default());
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let context = Resource::new_blocking(|| (), |_| login_context());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.create_account, t.site_title)/>
        <Layout labelled_by="register-title">
            <h1 id="register-title">{t.create_account}</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(ctx) if !ctx.registration_open => view! {
                        <p>{t.registration_closed}</p>
                    }.into_any(),
                    Ok(ctx) => view! {
                        <RegisterForm csrf=ctx.csrf.clone() next=next() error=url_error()/>
                        <p class="muted">{t.have_account} <a href="/o/login/">{t.sign_in}</a></p>
                    }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

/// The sign-up form, an island: its errors appear beside the fields they concern, so the
/// fields are part of what the browser hydrates (unlike the forms of `components::forms`).
#[island]
fn RegisterForm(
    /// The page's CSRF token.
    csrf: String,
    /// Where to continue once the account exists.
    next: String,
    /// The `?error=…` the page came with, shown until the form is sent.
    error: Option<String>,
) -> impl IntoView {
    let action = ServerAction::<Register>::new();
    follow(action);
    let field_error = move |name: &'static str| {
        move || match action.value().get() {
            Some(Err(AppError::Field { field, message })) if field == name => Some(message),
            _ => None,
        }
    };
    let general_error = move || match action.value().get() {
        Some(Err(AppError::Field { .. })) | Some(Ok(_)) | None => error.clone(),
        Some(Err(e)) => Some(error_text(&e)),
    };
    let field =
        move |id: &'static str, label: &'static str, kind: &'static str, autocomplete: &'static str, required: bool| {
            let error = field_error(id);
            let error_id = format!("{id}-error");
            view! {
                <label for=id>{label}</label>
                <input id=id name=id type=kind autocomplete=autocomplete required=required
                    aria-describedby=error_id.clone() aria-invalid=move || error().is_some().to_string()/>
                <span id=error_id class="field-error" role="alert">{error}</span>
            }
        };
    let t = t();
    view! {
        {move || general_error().map(|message| view! { <ErrorBanner message/> })}
        <ActionForm action attr:class="form" attr:novalidate=true>
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="next" value=next/>
            {field("username", t.username, "text", "username", true)}
            {field("email", t.email, "email", "email", false)}
            {field("display_name", t.display_name, "text", "name", false)}
            {field("password", t.new_password_hint, "password", "new-password", true)}
            <button type="submit" class="primary" disabled=move || action.pending().get()>{t.sign_up}</button>
        </ActionForm>
    }
}
