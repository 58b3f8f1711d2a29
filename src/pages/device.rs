//! `/o/device/`: where a person signs a device in (RFC 8628 §3.3). Signed in, they type the
//! code the device shows (or arrive with it from `verification_uri_complete`), check that the
//! app and the code are the ones on the device, and approve or deny. Every step is a plain
//! form, so the page works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        device::{load_device, DeviceConfirm, DeviceView, DEVICE_PAGE},
        error::{error_for_code, error_text},
    },
    components::{forms::DecideDeviceForm, ErrorBanner, Layout, Loading, Notice},
    i18n::t,
    pages::consent::{DecisionButtons, ScopeList},
};

/// The device verification page.
#[component]
pub fn DevicePage() -> impl IntoView {
    let query = use_query_map();
    let done = query.with_untracked(|q| q.get("done"));
    let user_code = move || query.with(|q| q.get("user_code").unwrap_or_default());
    let url_error = query.with_untracked(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let t = t();
    let body = match done.as_deref() {
        Some("approved") => view! { <Notice message=t.device_approved/> }.into_any(),
        Some("denied") => view! { <p role="status" class="device-denied">{t.device_denied}</p> }.into_any(),
        _ => {
            let data = Resource::new_blocking(user_code, load_device);
            view! {
                <Suspense fallback=Loading>
                    {move || {
                        let url_error = url_error.clone();
                        Suspend::new(async move { match data.await {
                            Ok(v) => view! { <Device v url_error/> }.into_any(),
                            Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                        }})
                    }}
                </Suspense>
            }
            .into_any()
        }
    };
    view! {
        <Title text=format!("{} · {}", t.device_title, t.site_title)/>
        <Layout labelled_by="device-title">
            <h1 id="device-title">{t.device_title}</h1>
            {body}
        </Layout>
    }
}

#[component]
fn Device(v: DeviceView, url_error: Option<String>) -> impl IntoView {
    match v.request {
        Some(request) => view! { <Confirm request username=v.username csrf=v.csrf/> }.into_any(),
        None => {
            let error = v.error.as_ref().map(error_text).or(url_error);
            view! { <EnterCode typed=v.typed error/> }.into_any()
        }
    }
}

/// The code entry: a GET form back to this page, which looks the code up.
#[component]
fn EnterCode(typed: String, error: Option<String>) -> impl IntoView {
    let t = t();
    view! {
        <p>{t.device_intro}</p>
        {error.map(|message| view! { <ErrorBanner message/> })}
        <form method="get" action=DEVICE_PAGE class="form">
            <label for="user-code">{t.device_code_label}</label>
            <input id="user-code" name="user_code" type="text" required value=typed autocomplete="off"
                autocapitalize="characters" spellcheck="false" maxlength="20" placeholder="XXXX-XXXX"/>
            <button type="submit" class="primary">{t.device_continue}</button>
        </form>
    }
}

/// The request to approve: the app, the code to compare with the device's, the scopes.
#[component]
fn Confirm(request: DeviceConfirm, username: String, csrf: String) -> impl IntoView {
    let t = t();
    view! {
        <p>
            <strong>{request.client_name.clone()}</strong> {t.wants_access.0}
            <strong>{username}</strong> {t.wants_access.1}
        </p>
        <p>{t.device_check_code}</p>
        <p class="user-code"><code>{request.user_code.clone()}</code></p>
        <h2>{t.will_be_able}</h2>
        <ScopeList scopes=request.scopes.clone()/>
        <DecideDeviceForm>
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="user_code" value=request.user_code.clone()/>
            <DecisionButtons/>
        </DecideDeviceForm>
    }
}
