//! The UI's languages: English and Simplified Chinese, the seed's users.
//!
//! The language is chosen per request on the server (a `yaoshi_lang` cookie set by the switcher
//! on every page, else the `ui_locales` a relying party sent to the authorization endpoint, else
//! `Accept-Language`) and written to `<html lang>`, from which the browser
//! reads it back when hydrating, so both renders agree. Every string lives in one [`Text`] per
//! language: a missing translation is a compile error, not an English leftover.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

mod en;
mod zh;

pub use en::EN;
pub use zh::ZH;

/// A UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Locale {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Locale {
    /// The BCP 47 tag, as written to `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// The language a tag names, if we have it: any `zh` except the traditional-script ones
    /// (`zh-TW`, `zh-HK`, `zh-MO`, `zh-Hant`) is ours, as is any `en`.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "en" => Some(Locale::En),
            "zh" if ["hant", "tw", "hk", "mo"].iter().any(|t| tag.split(['-', '_']).skip(1).any(|s| s == *t)) => None,
            "zh" => Some(Locale::ZhCn),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header (RFC 9110 §12.5.4): the
    /// highest `q` among the tags we have, the earlier one on a tie; English if none.
    pub fn negotiate(accept_language: &str) -> Locale {
        let mut best: Option<(f32, Locale)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::from_tag) else { continue };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map_or(Locale::En, |(_, l)| l)
    }

    /// The other language, for the switcher.
    pub fn other(self) -> Locale {
        match self {
            Locale::En => Locale::ZhCn,
            Locale::ZhCn => Locale::En,
        }
    }

    /// This language's strings.
    pub fn text(self) -> &'static Text {
        match self {
            Locale::En => &EN,
            Locale::ZhCn => &ZH,
        }
    }
}

/// The current page's strings (the language is provided by the app root).
pub fn t() -> &'static Text {
    use_context::<Locale>().unwrap_or_default().text()
}

/// The built-in scopes and what the consent page says about them, in English.
pub const BUILTIN_SCOPES: &[(&str, &str)] = &[
    ("openid", "Sign you in with your Yaoshi account"),
    ("profile", "See your username and display name"),
    ("email", "See your email address"),
    ("phone", "See your phone number"),
    ("groups", "See your groups and your roles in this app"),
    ("read", "Read your data"),
    ("write", "Change your data"),
];

/// The same, in Simplified Chinese.
const BUILTIN_SCOPES_ZH: &[(&str, &str)] = &[
    ("openid", "使用你的钥匙账户登录"),
    ("profile", "查看你的用户名和显示名称"),
    ("email", "查看你的邮箱地址"),
    ("phone", "查看你的手机号码"),
    ("groups", "查看你所在的群组和你在此应用中的角色"),
    ("read", "读取你的数据"),
    ("write", "修改你的数据"),
];

/// What a scope lets an app do, in the page's language: a built-in scope whose description
/// the operator left as it was is translated; an operator's own text is shown as written.
pub fn scope_text(name: &str, description: &str) -> String {
    let builtin = BUILTIN_SCOPES.iter().any(|(n, d)| *n == name && *d == description);
    let translated = match use_context::<Locale>().unwrap_or_default() {
        Locale::ZhCn if builtin => BUILTIN_SCOPES_ZH.iter().find(|(n, _)| *n == name).map(|(_, d)| *d),
        _ => None,
    };
    translated.unwrap_or(description).to_owned()
}

/// The notice for `?done=<code>` after a form succeeded.
pub fn done_text(code: &str) -> Option<&'static str> {
    let t = t();
    Some(match code {
        "profile" => t.done_profile,
        "password" => t.done_password,
        "revoked" => t.done_revoked,
        "sessions" => t.done_sessions,
        "account_deleted" => t.done_account_deleted,
        "signed_out" => t.done_signed_out,
        "registered" => t.done_registered,
        "saved" => t.done_saved,
        "rotated" => t.done_rotated,
        "app_deleted" => t.done_app_deleted,
        "enabled" => t.done_enabled,
        "disabled" => t.done_disabled,
        "linked" => t.done_linked,
        "unlinked" => t.done_unlinked,
        "code_sent" => t.done_code_sent,
        "verified" => t.done_verified,
        "reset" => t.done_reset,
        "check_email" => t.done_check_email,
        "factor_added" => t.done_factor_added,
        "factor_removed" => t.done_factor_removed,
        "codes_regenerated" => t.done_codes_regenerated,
        "factors_reset" => t.done_factors_reset,
        "passkey_added" => t.done_passkey_added,
        "passkey_removed" => t.done_passkey_removed,
        "user_created" => t.done_user_created,
        "invited" => t.done_invited,
        "password_set" => t.done_password_set,
        "sessions_ended" => t.done_sessions_ended,
        "user_deleted" => t.done_user_deleted,
        "group_created" => t.done_group_created,
        "group_deleted" => t.done_group_deleted,
        "client_created" => t.done_client_created,
        "client_deleted" => t.done_client_deleted,
        _ => return None,
    })
}

/// How long ago a moment `age` seconds old was, in `t`'s words ("2 minutes ago"); `None` past
/// a month, when the date says more.
pub fn ago(t: &Text, age: i64) -> Option<String> {
    let (unit, (one, many)) = match age {
        i64::MIN..60 => return Some(t.just_now.to_owned()),
        60..3_600 => (60, t.minutes_ago),
        3_600..86_400 => (3_600, t.hours_ago),
        86_400..2_592_000 => (86_400, t.days_ago),
        _ => return None,
    };
    let n = age / unit;
    Some(if n == 1 { one.to_owned() } else { many.replace("{n}", &n.to_string()) })
}

/// Every string of the UI in one language.
#[allow(missing_docs)]
pub struct Text {
    /// The language's name in itself, for the switch.
    pub own_name: &'static str,
    pub loading: &'static str,
    pub site_title: &'static str,
    // errors
    pub err_credentials: &'static str,
    pub err_wrong_password: &'static str,
    pub err_signed_out: &'static str,
    /// A visitor without a session opened a page that needs one.
    pub err_sign_in_required: &'static str,
    pub err_throttled: &'static str,
    /// The same, for a wait of one minute.
    pub err_throttled_one: &'static str,
    pub err_forbidden: &'static str,
    pub err_expired: &'static str,
    pub err_unavailable: &'static str,
    pub err_transport: &'static str,
    pub err_check_form: &'static str,
    // notices
    pub done_profile: &'static str,
    pub done_password: &'static str,
    pub done_revoked: &'static str,
    pub done_sessions: &'static str,
    pub done_account_deleted: &'static str,
    pub done_registered: &'static str,
    pub done_saved: &'static str,
    pub done_rotated: &'static str,
    pub done_app_deleted: &'static str,
    pub done_enabled: &'static str,
    pub done_disabled: &'static str,
    // verified contacts and recovery
    pub err_email_not_verified: &'static str,
    pub err_wrong_code: &'static str,
    pub err_stale_link: &'static str,
    pub err_contact_taken: &'static str,
    pub err_too_soon: &'static str,
    pub err_nothing_to_verify: &'static str,
    pub err_captcha: &'static str,
    pub done_code_sent: &'static str,
    pub done_verified: &'static str,
    pub done_reset: &'static str,
    pub done_check_email: &'static str,
    pub contacts_title: &'static str,
    pub verified: &'static str,
    pub not_verified: &'static str,
    pub send_link_again: &'static str,
    pub code: &'static str,
    pub verify: &'static str,
    pub phone_number: &'static str,
    pub phone_hint: &'static str,
    pub captcha_needs_script: &'static str,
    pub save_phone: &'static str,
    pub send_code_again: &'static str,
    pub claim_dropped: &'static str,
    pub with_password: &'static str,
    pub with_phone: &'static str,
    pub send_code: &'static str,
    pub code_sent_to: &'static str,
    pub use_another_number: &'static str,
    pub forgot_password: &'static str,
    pub forgot_title: &'static str,
    pub forgot_intro: &'static str,
    pub email_or_phone: &'static str,
    pub send_reset: &'static str,
    pub reset_sent: &'static str,
    pub reset_title: &'static str,
    pub reset_for: &'static str,
    pub set_new_password: &'static str,
    pub verify_title: &'static str,
    pub verify_intro: &'static str,
    pub confirm: &'static str,
    pub verified_title: &'static str,
    pub send_verification: &'static str,
    pub send_reset_admin: &'static str,
    // login
    pub sign_in: &'static str,
    pub signed_in_switch: (&'static str, &'static str),
    pub username_or_email: &'static str,
    pub password: &'static str,
    pub new_here: &'static str,
    pub create_account: &'static str,
    pub sign_up: &'static str,
    // consent
    pub authorize: &'static str,
    pub wants_access: (&'static str, &'static str),
    pub will_be_able: &'static str,
    pub sent_to: (&'static str, &'static str),
    pub deny: &'static str,
    pub approve: &'static str,
    pub request_failed: &'static str,
    pub error_code: (&'static str, &'static str),
    pub reload: &'static str,
    /// The button that sends an answer on to an app when the page cannot do it by itself.
    pub continue_to_app: &'static str,
    pub authorization_error: &'static str,
    // home
    pub home_title: &'static str,
    pub signed_in_as: (&'static str, &'static str),
    pub manage_account: &'static str,
    pub sign_out: &'static str,
    pub logout_question: &'static str,
    pub logout_asked_by: (&'static str, &'static str),
    pub continue_: &'static str,
    pub done_signed_out: &'static str,
    pub not_signed_in: &'static str,
    pub developer_apps: &'static str,
    pub admin_users: &'static str,
    pub admin_clients: &'static str,
    /// The security events page's title.
    pub admin_events: &'static str,
    /// The groups page's title.
    pub admin_groups: &'static str,
    /// The admin pages' navigation (its accessible name).
    pub admin_nav: &'static str,
    /// The create-user form's title and button.
    pub create_user: &'static str,
    /// The create-user form's password field.
    pub password_optional: &'static str,
    /// The create-user form's invitation checkbox.
    pub invite_by_email: &'static str,
    /// The create-user form's admin checkbox.
    pub make_admin: &'static str,
    /// A create button.
    pub create: &'static str,
    /// The link to the next page of a list.
    pub next_page: &'static str,
    /// The invitation button.
    pub send_invitation: &'static str,
    /// Ending one session.
    pub end_session: &'static str,
    /// Ending every session of a user.
    pub end_all_sessions: &'static str,
    /// A user without sessions.
    pub no_sessions: &'static str,
    /// A user without consents.
    pub no_consents: &'static str,
    /// The user page's providers section.
    pub linked_providers: &'static str,
    /// A user without linked providers.
    pub no_identities: &'static str,
    /// A user in no group.
    pub not_in_groups: &'static str,
    /// Adding a user to a group.
    pub add_to_group: &'static str,
    /// The roles section.
    pub roles: &'static str,
    /// Nothing holds a role.
    pub no_roles: &'static str,
    /// The role name field.
    pub role: &'static str,
    /// The client field.
    pub client: &'static str,
    /// Giving a role.
    pub give_role: &'static str,
    /// The delete-user button.
    pub delete_user: &'static str,
    /// What deleting a user does.
    pub delete_user_warning: &'static str,
    /// The new-group form.
    pub new_group: &'static str,
    /// The group name field.
    pub group_name: &'static str,
    /// A rename button.
    pub rename: &'static str,
    /// A group's members.
    pub members: &'static str,
    /// A group without members.
    pub no_members: &'static str,
    /// Adding a member by username.
    pub add_member: &'static str,
    /// No group exists.
    pub no_groups: &'static str,
    /// Saving a client's name and redirect URIs.
    pub save_uris: &'static str,
    /// A client's scopes field.
    pub client_scopes: &'static str,
    /// A client's post-logout redirect URIs field.
    pub post_logout_uris: &'static str,
    /// A client's back-channel logout URI field.
    pub backchannel_uri: &'static str,
    /// The register-client form.
    pub register_client: &'static str,
    /// Notice: user created.
    pub done_user_created: &'static str,
    /// Notice: invitation sent.
    pub done_invited: &'static str,
    /// Notice: an admin set a password.
    pub done_password_set: &'static str,
    /// Notice: sessions ended.
    pub done_sessions_ended: &'static str,
    /// Notice: user deleted.
    pub done_user_deleted: &'static str,
    /// Notice: group created.
    pub done_group_created: &'static str,
    /// Notice: group deleted.
    pub done_group_deleted: &'static str,
    /// Notice: client registered.
    pub done_client_created: &'static str,
    /// Notice: client deleted.
    pub done_client_deleted: &'static str,
    /// The events filter's fields.
    pub event_kind: &'static str,
    /// The events filter's user field.
    pub event_user: &'static str,
    /// The events filter's address field.
    pub event_ip: &'static str,
    /// The events table's time column (in the reader's time zone).
    pub event_time: &'static str,
    /// No event matches.
    pub no_events: &'static str,
    /// The account page's activity heading.
    pub recent_activity: &'static str,
    /// A filter button.
    pub filter: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    // register
    pub registration_closed: &'static str,
    pub username: &'static str,
    pub email: &'static str,
    pub display_name: &'static str,
    pub new_password_hint: &'static str,
    pub have_account: &'static str,
    // account
    pub account_title: &'static str,
    pub profile: &'static str,
    pub save_profile: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub change_password: &'static str,
    pub authorized_apps: &'static str,
    pub no_authorized_apps: &'static str,
    pub authorized_at: &'static str,
    pub last_used: &'static str,
    pub revoke: &'static str,
    pub browsers: &'static str,
    pub unknown_browser: &'static str,
    pub this_browser: &'static str,
    pub signed_in_at: &'static str,
    pub last_seen: &'static str,
    /// A browser and its system: `{browser}` (name and version) on `{os}`.
    pub browser_on: &'static str,
    /// A moment less than a minute ago.
    pub just_now: &'static str,
    /// Minutes ago: for one, and for `{n}`.
    pub minutes_ago: (&'static str, &'static str),
    /// Hours ago: for one, and for `{n}`.
    pub hours_ago: (&'static str, &'static str),
    /// Days ago: for one, and for `{n}`.
    pub days_ago: (&'static str, &'static str),
    pub sign_out_others: &'static str,
    pub delete_account: &'static str,
    pub delete_warning: &'static str,
    pub your_password: &'static str,
    pub delete_my_account: &'static str,
    // developer apps
    pub apps_intro: &'static str,
    pub no_dev_apps: &'static str,
    pub register_app: &'static str,
    pub app_name: &'static str,
    pub client_type: &'static str,
    pub confidential_choice: &'static str,
    pub public_choice: &'static str,
    pub confidential: &'static str,
    pub public: &'static str,
    pub redirect_uris: &'static str,
    pub allowed_origins: &'static str,
    pub grant_types: &'static str,
    pub register: &'static str,
    pub secret_once: &'static str,
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub edit: &'static str,
    pub save: &'static str,
    pub rotate_secret: &'static str,
    pub delete: &'static str,
    pub registered_at: &'static str,
    // admin
    pub search: &'static str,
    pub search_label: &'static str,
    pub no_users: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub disabled: &'static str,
    pub admin: &'static str,
    pub owner: &'static str,
    pub skip_consent: &'static str,
    pub password_grant: &'static str,
    pub implicit_grant: &'static str,
    pub require_mfa: &'static str,
    pub mfa_password_grant: &'static str,
    // third-party sign-in
    pub err_upstream_unavailable: &'static str,
    pub err_upstream_denied: &'static str,
    pub err_upstream_state: &'static str,
    pub err_upstream_rejected: &'static str,
    pub err_upstream_error: &'static str,
    pub err_unknown_provider: &'static str,
    pub err_identity_taken: &'static str,
    pub err_already_linked: &'static str,
    pub err_account_disabled: &'static str,
    pub err_last_method: &'static str,
    pub done_linked: &'static str,
    pub done_unlinked: &'static str,
    pub sign_in_with: (&'static str, &'static str),
    pub or_use_password: &'static str,
    pub finish_title: &'static str,
    pub finish_intro: (&'static str, &'static str),
    pub choose_username: &'static str,
    pub create_my_account: &'static str,
    pub link_existing: &'static str,
    pub link_existing_text: (&'static str, &'static str),
    pub link_my_account: &'static str,
    pub back_to_sign_in: &'static str,
    pub sign_in_methods: &'static str,
    pub link: &'static str,
    pub unlink: &'static str,
    pub linked_at: &'static str,
    pub not_linked: &'static str,
    pub set_password: &'static str,
    pub no_password_yet: &'static str,
    // the device grant (RFC 8628)
    pub device_grant: &'static str,
    pub device_title: &'static str,
    pub device_intro: &'static str,
    pub device_code_label: &'static str,
    pub device_continue: &'static str,
    pub device_check_code: &'static str,
    pub device_approved: &'static str,
    pub device_denied: &'static str,
    // second factors
    pub err_code_replayed: &'static str,
    pub err_no_such_factor: &'static str,
    pub err_sign_in_expired: &'static str,
    pub done_factor_added: &'static str,
    pub done_factor_removed: &'static str,
    pub done_codes_regenerated: &'static str,
    pub done_factors_reset: &'static str,
    pub security_title: &'static str,
    pub security_intro: &'static str,
    pub no_factors: &'static str,
    pub authenticator_app: &'static str,
    pub added_at: &'static str,
    pub set_up_authenticator: &'static str,
    pub enrol_scan: &'static str,
    pub qr_label: &'static str,
    pub secret_key: &'static str,
    pub app_code: &'static str,
    pub recovery_codes: &'static str,
    pub recovery_codes_new: &'static str,
    pub recovery_left: &'static str,
    pub regenerate_codes: &'static str,
    pub current_code: &'static str,
    pub remove: &'static str,
    pub second_step_intro: &'static str,
    pub second_factor: &'static str,
    pub reset_factors: &'static str,
    pub remember_browser: (&'static str, &'static str),
    // passkeys
    pub err_passkey_refused: &'static str,
    pub err_passkey_expired: &'static str,
    pub err_passkey_duplicate: &'static str,
    pub err_passkey_name: &'static str,
    pub err_passkeys_off: &'static str,
    pub done_passkey_added: &'static str,
    pub done_passkey_removed: &'static str,
    pub passkeys: &'static str,
    pub passkeys_intro: &'static str,
    pub no_passkeys: &'static str,
    pub passkey_name: &'static str,
    pub add_passkey: &'static str,
    pub passkey_needs_script: &'static str,
    pub passkey_failed: &'static str,
    pub sign_in_with_passkey: &'static str,
    pub use_passkey: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_we_have() {
        for (header, want) in [
            ("", Locale::En),
            ("zh-CN,zh;q=0.9,en;q=0.8", Locale::ZhCn),
            ("en-US,en;q=0.9,zh-CN;q=0.8", Locale::En),
            ("fr-FR, zh;q=0.5", Locale::ZhCn),
            ("zh-TW,zh-Hant;q=0.9", Locale::En),
            ("en;q=0.2, zh-Hans;q=0.7", Locale::ZhCn),
            ("zh-CN;q=0", Locale::En),
            ("de, fr", Locale::En),
            ("ZH_cn", Locale::ZhCn),
        ] {
            assert_eq!(Locale::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        for (age, en, zh) in [
            (-5, Some("just now"), Some("刚刚")),
            (59, Some("just now"), Some("刚刚")),
            (60, Some("a minute ago"), Some("1 分钟前")),
            (150, Some("2 minutes ago"), Some("2 分钟前")),
            (7_300, Some("2 hours ago"), Some("2 小时前")),
            (86_400, Some("yesterday"), Some("昨天")),
            (3 * 86_400 + 5, Some("3 days ago"), Some("3 天前")),
            (40 * 86_400, None, None),
        ] {
            assert_eq!(ago(&EN, age).as_deref(), en, "{age}");
            assert_eq!(ago(&ZH, age).as_deref(), zh, "{age}");
        }
    }

    #[test]
    fn tags_round_trip() {
        for l in [Locale::En, Locale::ZhCn] {
            assert_eq!(Locale::from_tag(l.tag()), Some(l));
            assert_eq!(l.other().other(), l);
        }
        assert_eq!(Locale::from_tag("zh-HK"), None);
        assert_eq!(Locale::from_tag("ja"), None);
    }
}
