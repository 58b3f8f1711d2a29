//! The UI's languages: English and Simplified Chinese, the seed's users.
//!
//! The language is chosen per request on the server (a `yaoshi_lang` cookie set by the switcher
//! on every page, else the `ui_locales` a relying party sent to the authorization endpoint, else
//! `Accept-Language`) and written to `<html lang>`, from which the browser
//! reads it back when hydrating, so both renders agree. Every string lives in one [`Text`] per
//! language: a missing translation is a compile error, not an English leftover.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
    ("read", "Read your data"),
    ("write", "Change your data"),
];

/// The same, in Simplified Chinese.
const BUILTIN_SCOPES_ZH: &[(&str, &str)] = &[
    ("openid", "使用你的钥匙账户登录"),
    ("profile", "查看你的用户名和显示名称"),
    ("email", "查看你的邮箱地址"),
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
        _ => return None,
    })
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
    pub err_throttled: &'static str,
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
    // third-party sign-in
    pub err_upstream_unavailable: &'static str,
    pub err_upstream_denied: &'static str,
    pub err_upstream_state: &'static str,
    pub err_upstream_rejected: &'static str,
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
}

/// English.
pub static EN: Text = Text {
    own_name: "English",
    loading: "Loading…",
    site_title: "Yaoshi",
    err_credentials: "Invalid username or password.",
    err_wrong_password: "The password is not correct.",
    err_signed_out: "You are signed out. Sign in again.",
    err_throttled: "Too many failed attempts. Try again in a few minutes.",
    err_forbidden: "You do not have access to this page.",
    err_expired: "Your session has expired. Reload the page and try again.",
    err_unavailable: "The service is temporarily unavailable. Try again in a moment.",
    err_transport: "The request failed: ",
    err_check_form: "Check the form and try again.",
    done_profile: "Your profile was saved.",
    done_password: "Your password was changed. Your other browsers were signed out.",
    done_revoked: "The app's access was revoked.",
    done_sessions: "Signed out.",
    done_account_deleted: "Your account was deleted.",
    done_registered: "The app was registered.",
    done_saved: "Saved.",
    done_rotated: "The app has a new secret. The old one no longer works.",
    done_app_deleted: "The app was deleted.",
    done_enabled: "The account was enabled.",
    done_disabled: "The account was disabled and signed out everywhere.",
    sign_in: "Sign in",
    signed_in_switch: ("You are signed in as ", ". Sign in again to switch accounts."),
    username_or_email: "Username or email",
    password: "Password",
    new_here: "New here? ",
    create_account: "Create an account",
    sign_up: "Create account",
    authorize: "Authorize ",
    wants_access: (" wants to access your account ", "."),
    will_be_able: "It will be able to",
    sent_to: ("After you decide, you will be sent to ", "."),
    deny: "Deny",
    approve: "Approve",
    request_failed: "This request cannot be completed",
    error_code: ("Error code: ", ". Go back to the app you came from and try again, or contact its developer."),
    reload: "Reload this page to continue.",
    continue_to_app: "Continue",
    authorization_error: "Authorization error",
    home_title: "Your Yaoshi account",
    signed_in_as: ("Signed in as ", "."),
    manage_account: "Manage your account",
    sign_out: "Sign out",
    logout_question: "Sign out of this server?",
    logout_asked_by: ("", " asks you to sign out."),
    continue_: "Continue",
    done_signed_out: "You are signed out.",
    not_signed_in: "You are not signed in.",
    developer_apps: "Developer apps",
    admin_users: "Users",
    admin_clients: "Clients",
    not_found: "Page not found",
    not_found_text: "There is nothing at this address.",
    registration_closed: "Sign-up is closed on this server. Ask its operator for an account.",
    username: "Username",
    email: "Email",
    display_name: "Display name",
    new_password_hint: "Password (at least 8 characters)",
    have_account: "Already have an account? ",
    account_title: "Your account",
    profile: "Profile",
    save_profile: "Save profile",
    current_password: "Current password",
    new_password: "New password",
    change_password: "Change password",
    authorized_apps: "Authorized apps",
    no_authorized_apps: "You have not authorized any app.",
    authorized_at: "Authorized ",
    last_used: " · last used ",
    revoke: "Revoke",
    browsers: "Signed-in browsers",
    unknown_browser: "Unknown browser",
    this_browser: "this browser",
    signed_in_at: " · signed in ",
    last_seen: " · last seen ",
    sign_out_others: "Sign out all other browsers",
    delete_account: "Delete account",
    delete_warning: "This deletes your account, signs you out everywhere and revokes every app's access. \
                     Your username cannot be registered again for 30 days.",
    your_password: "Your password",
    delete_my_account: "Delete my account",
    apps_intro: "Register the applications that sign people in with this server.",
    no_dev_apps: "You have not registered any app.",
    register_app: "Register an app",
    app_name: "Name",
    client_type: "Type",
    confidential_choice: "Confidential: runs on a server and keeps a secret",
    public_choice: "Public: a browser or mobile app, no secret",
    confidential: "confidential",
    public: "public",
    redirect_uris: "Redirect URIs (one per line)",
    grant_types: "Grant types",
    register: "Register",
    secret_once: "Copy this client secret now: it will not be shown again.",
    client_id: "Client ID",
    client_secret: "Client secret",
    edit: "Edit",
    save: "Save",
    rotate_secret: "New secret",
    delete: "Delete",
    registered_at: "Registered ",
    search: "Search",
    search_label: "Username, email or name",
    no_users: "No user matches.",
    disable: "Disable",
    enable: "Enable",
    disabled: "disabled",
    admin: "admin",
    owner: "Owner: ",
    skip_consent: "Skip consent",
    password_grant: "Password grant",
    implicit_grant: "Implicit grant",
    err_upstream_unavailable:
        "The sign-in provider could not be reached or did not answer in time. Try again later, or sign in another way.",
    err_upstream_denied: "The sign-in was cancelled or refused at the provider.",
    err_upstream_state: "This sign-in expired or was not started in this browser. Start again.",
    err_upstream_rejected:
        "The provider's answer could not be verified, so nothing was signed in or linked. Start again.",
    err_unknown_provider: "This sign-in provider is not available.",
    err_identity_taken: "That account at the provider is already linked to another user.",
    err_already_linked: "Your account is already linked to an account at this provider. Unlink it first.",
    err_account_disabled: "This account is disabled.",
    err_last_method:
        "This is your only way to sign in, so it cannot be removed. Set a password or link another provider first.",
    done_linked: "The provider was linked to your account.",
    done_unlinked: "The provider was unlinked from your account.",
    sign_in_with: ("Sign in with ", ""),
    or_use_password: "or with your password",
    finish_title: "Finish signing in",
    finish_intro: ("You signed in with ", ". Choose a username for your new account."),
    choose_username: "Username",
    create_my_account: "Create my account",
    link_existing: "Already have an account?",
    link_existing_text: ("The account with the email ", " can be linked to this sign-in. Enter its password."),
    link_my_account: "Link to my account",
    back_to_sign_in: "Back to sign in",
    sign_in_methods: "Sign-in methods",
    link: "Link",
    unlink: "Unlink",
    linked_at: "linked ",
    not_linked: "not linked",
    set_password: "Set a password",
    no_password_yet: "Your account has no password: you sign in through a provider. Set one to sign in without it.",
};

/// Simplified Chinese.
pub static ZH: Text = Text {
    own_name: "中文",
    loading: "加载中…",
    site_title: "钥匙",
    err_credentials: "用户名或密码错误。",
    err_wrong_password: "密码不正确。",
    err_signed_out: "你已退出登录，请重新登录。",
    err_throttled: "失败次数过多，请几分钟后再试。",
    err_forbidden: "你无权访问此页面。",
    err_expired: "会话已过期，请刷新页面后重试。",
    err_unavailable: "服务暂时不可用，请稍后再试。",
    err_transport: "请求失败：",
    err_check_form: "请检查表单后重试。",
    done_profile: "个人资料已保存。",
    done_password: "密码已修改，你的其他浏览器已退出登录。",
    done_revoked: "已撤销该应用的访问权限。",
    done_sessions: "已退出登录。",
    done_account_deleted: "你的账户已删除。",
    done_registered: "应用已注册。",
    done_saved: "已保存。",
    done_rotated: "应用已更换新密钥，旧密钥不再有效。",
    done_app_deleted: "应用已删除。",
    done_enabled: "账户已启用。",
    done_disabled: "账户已停用，并已在所有设备上退出登录。",
    sign_in: "登录",
    signed_in_switch: ("你已登录为 ", "。重新登录可切换账户。"),
    username_or_email: "用户名或邮箱",
    password: "密码",
    new_here: "还没有账户？",
    create_account: "创建账户",
    sign_up: "注册",
    authorize: "授权 ",
    wants_access: (" 请求访问你的账户 ", "。"),
    will_be_able: "它将能够",
    sent_to: ("你做出选择后，将被带往 ", "。"),
    deny: "拒绝",
    approve: "同意",
    request_failed: "无法完成此请求",
    error_code: ("错误代码：", "。请返回来源应用重试，或联系该应用的开发者。"),
    reload: "请刷新此页面以继续。",
    continue_to_app: "继续",
    authorization_error: "授权错误",
    home_title: "你的钥匙账户",
    signed_in_as: ("当前登录：", "。"),
    manage_account: "管理账户",
    sign_out: "退出登录",
    logout_question: "要退出登录吗？",
    logout_asked_by: ("", " 请求你退出登录。"),
    continue_: "继续",
    done_signed_out: "你已退出登录。",
    not_signed_in: "你尚未登录。",
    developer_apps: "开发者应用",
    admin_users: "用户管理",
    admin_clients: "客户端管理",
    not_found: "页面不存在",
    not_found_text: "此地址没有任何内容。",
    registration_closed: "此服务器已关闭注册，请联系管理员开通账户。",
    username: "用户名",
    email: "邮箱",
    display_name: "显示名称",
    new_password_hint: "密码（至少 8 个字符）",
    have_account: "已有账户？",
    account_title: "你的账户",
    profile: "个人资料",
    save_profile: "保存资料",
    current_password: "当前密码",
    new_password: "新密码",
    change_password: "修改密码",
    authorized_apps: "已授权的应用",
    no_authorized_apps: "你还没有授权任何应用。",
    authorized_at: "授权于 ",
    last_used: " · 最近使用 ",
    revoke: "撤销",
    browsers: "已登录的浏览器",
    unknown_browser: "未知浏览器",
    this_browser: "当前浏览器",
    signed_in_at: " · 登录于 ",
    last_seen: " · 最近活动 ",
    sign_out_others: "退出其他所有浏览器",
    delete_account: "删除账户",
    delete_warning: "此操作将删除你的账户，在所有设备上退出登录，并撤销所有应用的访问权限。30 天内无法再注册此用户名。",
    your_password: "你的密码",
    delete_my_account: "删除我的账户",
    apps_intro: "注册通过本服务器登录用户的应用。",
    no_dev_apps: "你还没有注册任何应用。",
    register_app: "注册应用",
    app_name: "名称",
    client_type: "类型",
    confidential_choice: "机密客户端：运行在服务器上，可保管密钥",
    public_choice: "公开客户端：浏览器或移动应用，没有密钥",
    confidential: "机密",
    public: "公开",
    redirect_uris: "回调地址（每行一个）",
    grant_types: "授权类型",
    register: "注册",
    secret_once: "请立即复制此客户端密钥：它不会再次显示。",
    client_id: "客户端 ID",
    client_secret: "客户端密钥",
    edit: "编辑",
    save: "保存",
    rotate_secret: "更换密钥",
    delete: "删除",
    registered_at: "注册于 ",
    search: "搜索",
    search_label: "用户名、邮箱或名称",
    no_users: "没有匹配的用户。",
    disable: "停用",
    enable: "启用",
    disabled: "已停用",
    admin: "管理员",
    owner: "所有者：",
    skip_consent: "跳过授权确认",
    password_grant: "密码模式",
    implicit_grant: "隐式模式",
    err_upstream_unavailable: "无法连接登录服务提供方，或其未及时响应。请稍后再试，或使用其他方式登录。",
    err_upstream_denied: "登录已在服务提供方处被取消或拒绝。",
    err_upstream_state: "此次登录已过期，或并非在此浏览器中发起。请重新开始。",
    err_upstream_rejected: "无法验证服务提供方的响应，未登录也未关联任何账户。请重新开始。",
    err_unknown_provider: "此登录方式不可用。",
    err_identity_taken: "该第三方账户已关联到其他用户。",
    err_already_linked: "你的账户已关联此服务提供方的另一个账户，请先解除关联。",
    err_account_disabled: "此账户已停用。",
    err_last_method: "这是你唯一的登录方式，无法移除。请先设置密码或关联其他登录方式。",
    done_linked: "已将该登录方式关联到你的账户。",
    done_unlinked: "已解除该登录方式与你账户的关联。",
    sign_in_with: ("使用 ", " 登录"),
    or_use_password: "或使用密码登录",
    finish_title: "完成登录",
    finish_intro: ("你已通过 ", " 登录。请为新账户选择用户名。"),
    choose_username: "用户名",
    create_my_account: "创建我的账户",
    link_existing: "已有账户？",
    link_existing_text: ("邮箱为 ", " 的账户可以关联此登录方式，请输入该账户的密码。"),
    link_my_account: "关联到我的账户",
    back_to_sign_in: "返回登录",
    sign_in_methods: "登录方式",
    link: "关联",
    unlink: "解除关联",
    linked_at: "关联于 ",
    not_linked: "未关联",
    set_password: "设置密码",
    no_password_yet: "你的账户还没有密码：你通过第三方服务登录。设置密码后也可以直接登录。",
};

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
    fn tags_round_trip() {
        for l in [Locale::En, Locale::ZhCn] {
            assert_eq!(Locale::from_tag(l.tag()), Some(l));
            assert_eq!(l.other().other(), l);
        }
        assert_eq!(Locale::from_tag("zh-HK"), None);
        assert_eq!(Locale::from_tag("ja"), None);
    }
}
