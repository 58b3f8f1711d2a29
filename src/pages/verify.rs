//! `/o/verify/?token=…`: the page a verification mail links to. Opening it changes nothing
//! (mail scanners open links); the person confirms with a button.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        contacts::verify_context,
        error::{error_for_code, error_text},
    },
    components::{forms::ConfirmLinkForm, ErrorBanner, Layout, Loading},
    i18n::t,
};

/// The confirmation page.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let context = Resource::new_blocking(token, verify_context);
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.verify_title, t.site_title)/>
        <Layout labelled_by="verify-title">
            <h1 id="verify-title">{t.verify_title}</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(ctx) => match ctx.address {
                        None => view! {
                            <ErrorBanner message=t.err_stale_link.to_owned()/>
                            <p><a href="/account">{t.manage_account}</a></p>
                        }.into_any(),
                        Some(address) => view! {
                            <p>{t.verify_intro} <strong>{address}</strong></p>
                            <ConfirmLinkForm class="form" error=url_error()>
                                <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                                <input type="hidden" name="token" value=token()/>
                                <button type="submit" class="primary">{t.confirm}</button>
                            </ConfirmLinkForm>
                        }.into_any(),
                    },
                }})}
            </Suspense>
        </Layout>
    }
}
