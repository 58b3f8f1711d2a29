//! `/account/apps`: the signed-in user's developer apps (their own OAuth clients): register,
//! edit, rotate the secret, delete. A new secret is shown once, right after it was made.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::apps::load_apps,
    components::{
        forms::{DeleteAppForm, EditAppForm, RegisterAppForm, RotateSecretForm},
        moment::LocalTime,
        ErrorBanner, Layout, Loading, Notice, SecretOnce,
    },
    i18n::{done_text, t},
    view::{AppsView, DevApp},
};

/// The grant checkboxes a developer may tick, by field name.
const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// The developer apps page.
#[component]
pub fn AppsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new_blocking(|| (), |_| load_apps());
    let notice = move || query.with(|q| q.get("done")).and_then(|c| done_text(&c));
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.developer_apps, t.site_title)/>
        <Layout labelled_by="apps-title" wide=true>
            <h1 id="apps-title">{t.developer_apps}</h1>
            <p class="muted">{t.apps_intro}</p>
            {move || notice().map(|message| view! { <Notice message/> })}
            {move || url_error().map(|message| view! { <ErrorBanner message/> })}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <Apps v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

/// Checkboxes for the grant types, ticked as in `current`.
fn grant_boxes(prefix: &str, current: &[String]) -> impl IntoView {
    GRANTS
        .iter()
        .map(|g| {
            let id = format!("{prefix}-{g}");
            let for_id = id.clone();
            let checked = current.iter().any(|c| c == g);
            view! {
                <label class="check" for=for_id>
                    <input type="checkbox" id=id name=*g checked=checked/>
                    <code>{*g}</code>
                </label>
            }
        })
        .collect_view()
}

#[component]
fn Apps(v: AppsView) -> impl IntoView {
    let t = t();
    let secret = v.new_secret.map(|secret| view! { <SecretOnce secret/> });
    let csrf = v.csrf.clone();
    // An empty list is a sentence, not a `<ul>` holding a `<p>`.
    let list = if v.apps.is_empty() {
        view! { <p class="muted">{t.no_dev_apps}</p> }.into_any()
    } else {
        let rows = v.apps.into_iter().map(|app| view! { <AppRow app csrf=csrf.clone()/> }).collect_view();
        view! { <ul class="rows dev-apps">{rows}</ul> }.into_any()
    };
    let default_grants = vec!["authorization_code".to_owned(), "refresh_token".to_owned()];
    view! {
        {secret}
        {list}

        <h2 id="register-app">{t.register_app}</h2>
        <RegisterAppForm class="form" labelled_by="register-app">
            <input type="hidden" name="csrf" value=v.csrf/>
            <label for="app-name">{t.app_name}</label>
            <input id="app-name" name="name" type="text" required maxlength="100"/>
            <fieldset>
                <legend>{t.client_type}</legend>
                <label class="check" for="type-confidential">
                    <input type="radio" id="type-confidential" name="client_type" value="confidential" checked=true/>
                    {t.confidential_choice}
                </label>
                <label class="check" for="type-public">
                    <input type="radio" id="type-public" name="client_type" value="public"/>
                    {t.public_choice}
                </label>
            </fieldset>
            <label for="app-redirects">{t.redirect_uris}</label>
            <textarea id="app-redirects" name="redirect_uris" rows="3" placeholder="https://app.example/callback"></textarea>
            <label for="app-origins">{t.allowed_origins}</label>
            <textarea id="app-origins" name="allowed_origins" rows="2" placeholder="https://app.example"></textarea>
            <fieldset>
                <legend>{t.grant_types}</legend>
                {grant_boxes("new", &default_grants)}
            </fieldset>
            <button type="submit" class="primary">{t.register}</button>
        </RegisterAppForm>
    }
}

#[component]
fn AppRow(app: DevApp, csrf: String) -> impl IntoView {
    let t = t();
    let kind = if app.confidential { t.confidential } else { t.public };
    let prefix = format!("edit-{}", app.client_id);
    let name_id = format!("{prefix}-name");
    let redirects_id = format!("{prefix}-redirects");
    let origins_id = format!("{prefix}-origins");
    let origins_for = origins_id.clone();
    let origins_text = app.allowed_origins.join("\n");
    let origins_line = (!app.allowed_origins.is_empty()).then(|| app.allowed_origins.join(" "));
    let [csrf_edit, csrf_rotate, csrf_delete] = std::array::from_fn(|_| csrf.clone());
    let [id_row, id_shown, id_edit, id_rotate, id_delete] = std::array::from_fn(|_| app.client_id.clone());
    let (name_for, redirects_for) = (name_id.clone(), redirects_id.clone());
    let grants = grant_boxes(&prefix, &app.grant_types);
    view! {
        <li class="row dev-app" data-client-id=id_row>
            <div>
                <strong class="app-name">{app.name.clone()}</strong> " " <span class="badge">{kind}</span>
                <div class="muted">{t.client_id} ": " <code class="client-id">{id_shown}</code></div>
                <div class="muted">{app.grant_types.join(" · ")}</div>
                <div class="muted">{app.redirect_uris.join(" ")}</div>
                {origins_line.map(|o| view! { <div class="muted allowed-origins">{t.allowed_origins} ": " {o}</div> })}
                <div class="muted">{t.registered_at} <LocalTime at=app.created_at/></div>
                <details>
                    <summary>{t.edit}</summary>
                    <EditAppForm class="form">
                        <input type="hidden" name="csrf" value=csrf_edit/>
                        <input type="hidden" name="client_id" value=id_edit/>
                        <label for=name_for>{t.app_name}</label>
                        <input id=name_id name="name" type="text" required value=app.name.clone()/>
                        <label for=redirects_for>{t.redirect_uris}</label>
                        <textarea id=redirects_id name="redirect_uris" rows="3">{app.redirect_uris.join("\n")}</textarea>
                        <label for=origins_for>{t.allowed_origins}</label>
                        <textarea id=origins_id name="allowed_origins" rows="2">{origins_text}</textarea>
                        <fieldset>
                            <legend>{t.grant_types}</legend>
                            {grants}
                        </fieldset>
                        <button type="submit" class="primary">{t.save}</button>
                    </EditAppForm>
                </details>
            </div>
            <div class="actions">
                {app.confidential.then(move || view! {
                    <RotateSecretForm>
                        <input type="hidden" name="csrf" value=csrf_rotate/>
                        <input type="hidden" name="client_id" value=id_rotate/>
                        <button type="submit">{t.rotate_secret}</button>
                    </RotateSecretForm>
                })}
                <DeleteAppForm>
                    <input type="hidden" name="csrf" value=csrf_delete/>
                    <input type="hidden" name="client_id" value=id_delete/>
                    <button type="submit" class="danger">{t.delete}</button>
                </DeleteAppForm>
            </div>
        </li>
    }
}
