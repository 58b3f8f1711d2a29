//! The CAPTCHA field of a form that sends codes (`service::captcha`): rendered by the server
//! inside the form, filled in by `public/captcha.js` (a solved proof of work, or the token of
//! the provider's widget), posted as the `captcha` field.

use leptos::prelude::*;

use crate::{i18n::t, view::CaptchaWidget};

/// The name of the provider widget's callback, defined by `public/captcha.js`.
const SOLVED_CALLBACK: &str = "yaoshiCaptchaSolved";

/// The field for `widget`, or nothing when the CAPTCHA is off.
#[component]
pub fn CaptchaField(
    /// The challenge or widget, `None` when the CAPTCHA is off.
    widget: Option<CaptchaWidget>,
) -> impl IntoView {
    let t = t();
    widget.map(|widget| match widget {
        CaptchaWidget::Pow { challenge, bits } => view! {
            <input type="hidden" name="captcha" value=challenge data-pow-bits=bits.to_string()/>
            <noscript><p class="notice">{t.captcha_needs_script}</p></noscript>
        }
        .into_any(),
        CaptchaWidget::Provider { site_key, widget_class, script_url } => view! {
            <div class=widget_class data-sitekey=site_key data-callback=SOLVED_CALLBACK></div>
            <input type="hidden" name="captcha" value=""/>
            <noscript><p class="notice">{t.captcha_needs_script}</p></noscript>
            <script src=script_url></script>
        }
        .into_any(),
    })
}
