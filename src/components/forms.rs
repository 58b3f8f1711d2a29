//! The islands: the only parts of a page the WASM bundle hydrates. Each is one form that posts
//! to one server function; everything around it (and everything inside it, passed as
//! `children`) is rendered by the server alone and never reaches the browser as code.
//!
//! Without JavaScript a form posts to its function and the browser follows the 303. Once the
//! bundle has loaded, the island submits it in place: its buttons are disabled while the call
//! is pending, a failure is shown at the top of the form, and on success the browser loads the
//! URL the function answered with (a full navigation: it may be another site, the client's
//! redirect URI).
//!
//! An island cannot be generic (each is an exported entry point of the bundle), hence one per
//! server function, declared by `form_islands!` around the one generic `enhance`.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::{
    api::{
        account::{ChangePassword, DeleteAccount, EndSessions, RevokeApp, UpdateProfile},
        admin::{AdminContact, ResetUserFactors, SetUserEnabled},
        admin_clients::{AdminCreateClient, AdminDeleteClient, AdminEditClient, AdminRotateSecret, SetClientPolicy},
        admin_groups::{AdminCreateGroup, AdminDeleteGroup, AdminGroupMember, AdminRenameGroup, AdminRole},
        admin_users::{
            AdminCreateUser, AdminDeleteUser, AdminEndSessions, AdminInvite, AdminRevokeConsent, AdminSaveProfile,
            AdminSetPassword, AdminUserGroup,
        },
        apps::{DeleteApp, EditApp, RegisterApp, RotateAppSecret},
        auth::{Login, Logout},
        consent::Decide,
        contacts::{
            ConfirmLink, ForgotPassword, PhoneLogin, ResetPassword, SendSignInCode, SendVerification, SetPhone,
            VerifyContact,
        },
        device::DecideDevice,
        error::{error_text, AppError},
        factors::{ConfirmTotp, LoginSecondStep, RegenerateCodes, RemoveFactor, StartTotp},
        upstream::{FinishLink, FinishSignup, LinkProvider, UnlinkProvider},
    },
    components::{follow, ErrorBanner},
};

/// The behaviour of `action`'s form (`form`) that the module doc describes; returns the
/// message to show at its top: the last failure, else `error` until the form is sent (a
/// page's `?error=…`).
fn enhance<S>(
    action: ServerAction<S>,
    form: NodeRef<leptos::html::Form>,
    error: Option<String>,
) -> impl Fn() -> Option<AnyView> + Send + 'static
where
    S: ServerFn<Output = String, Error = AppError> + Clone + Send + Sync + 'static,
{
    follow(action);
    // The buttons are in `children`, static HTML: switched through the DOM.
    Effect::new(move |_| {
        let busy = action.pending().get();
        let Some(buttons) = form.get().map(|f| f.get_elements_by_tag_name("button")) else { return };
        for button in (0..buttons.length()).filter_map(|i| buttons.item(i)) {
            let _ = if busy { button.set_attribute("disabled", "") } else { button.remove_attribute("disabled") };
        }
    });
    move || {
        let message = match action.value().get() {
            Some(Err(e)) => Some(error_text(&e)),
            Some(Ok(_)) => None,
            None => error.clone(),
        };
        message.map(|message| view! { <ErrorBanner message/> }.into_any())
    }
}

/// Declares one island per server function: its `<ActionForm>`, made by `enhance`.
macro_rules! form_islands {
    ($($(#[$doc:meta])* $name:ident($action:ty);)*) => {$(
        $(#[$doc])*
        #[island]
        pub(crate) fn $name(
            /// The form's `class`.
            #[prop(optional, into)]
            class: Option<String>,
            /// The id of the heading that names the form (`aria-labelledby`).
            #[prop(optional, into)]
            labelled_by: Option<String>,
            /// A message shown until the form is sent.
            #[prop(optional_no_strip)]
            error: Option<String>,
            /// The form's fields and buttons, rendered by the server.
            children: Children,
        ) -> impl IntoView {
            let action = ServerAction::<$action>::new();
            let form = NodeRef::new();
            let message = enhance(action, form, error);
            view! {
                <ActionForm action node_ref=form attr:class=class attr:aria-labelledby=labelled_by>
                    {message}
                    {children()}
                </ActionForm>
            }
        }
    )*};
}

form_islands! {
    /// Signing in (`/o/login/`).
    LoginForm(Login);
    /// Signing out (`/`, `/o/logout/`).
    LogoutForm(Logout);
    /// Approving or denying an app (the consent page).
    DecideForm(Decide);
    /// Approving or denying a device (the device page).
    DecideDeviceForm(DecideDevice);
    /// The account page's profile.
    ProfileForm(UpdateProfile);
    /// The account page's password.
    PasswordForm(ChangePassword);
    /// Revoking one app's access.
    RevokeAppForm(RevokeApp);
    /// Signing out one browser, or all but this one.
    EndSessionsForm(EndSessions);
    /// Deleting the account.
    DeleteAccountForm(DeleteAccount);
    /// Linking a sign-in provider to the account.
    LinkProviderForm(LinkProvider);
    /// Unlinking a sign-in provider.
    UnlinkProviderForm(UnlinkProvider);
    /// Registering a developer app.
    RegisterAppForm(RegisterApp);
    /// Editing a developer app.
    EditAppForm(EditApp);
    /// Making a new secret for a developer app.
    RotateSecretForm(RotateAppSecret);
    /// Deleting a developer app.
    DeleteAppForm(DeleteApp);
    /// An admin disabling or enabling a user.
    UserEnabledForm(SetUserEnabled);
    /// An admin sending a user a verification or a reset.
    AdminContactForm(AdminContact);
    /// An admin's switches for a client.
    ClientPolicyForm(SetClientPolicy);
    /// An admin creating a user.
    AdminCreateUserForm(AdminCreateUser);
    /// An admin saving a user's profile.
    AdminProfileForm(AdminSaveProfile);
    /// An admin setting a user's password.
    AdminPasswordForm(AdminSetPassword);
    /// An admin sending a user an invitation.
    AdminInviteForm(AdminInvite);
    /// An admin ending one or all of a user's sessions.
    AdminEndSessionsForm(AdminEndSessions);
    /// An admin revoking a user's consent for a client.
    AdminRevokeConsentForm(AdminRevokeConsent);
    /// An admin adding a user to a group or removing them.
    AdminUserGroupForm(AdminUserGroup);
    /// An admin deleting a user.
    AdminDeleteUserForm(AdminDeleteUser);
    /// An admin creating a group.
    AdminCreateGroupForm(AdminCreateGroup);
    /// An admin renaming a group.
    AdminRenameGroupForm(AdminRenameGroup);
    /// An admin deleting a group.
    AdminDeleteGroupForm(AdminDeleteGroup);
    /// An admin adding a member to a group or removing one.
    AdminGroupMemberForm(AdminGroupMember);
    /// An admin giving a user or a group a role, or taking it back.
    AdminRoleForm(AdminRole);
    /// An admin registering a client.
    AdminCreateClientForm(AdminCreateClient);
    /// An admin editing a client's registration.
    AdminEditClientForm(AdminEditClient);
    /// An admin making a new secret for a client.
    AdminRotateSecretForm(AdminRotateSecret);
    /// An admin deleting a client.
    AdminDeleteClientForm(AdminDeleteClient);
    /// Creating an account after a first sign-in with a provider.
    FinishSignupForm(FinishSignup);
    /// Linking an existing account after a first sign-in with a provider.
    FinishLinkForm(FinishLink);
    /// Sending a verification code (or link) again.
    SendVerificationForm(SendVerification);
    /// Typing a verification code.
    VerifyContactForm(VerifyContact);
    /// Setting the account's phone number.
    PhoneForm(SetPhone);
    /// Confirming a verification link.
    ConfirmLinkForm(ConfirmLink);
    /// Asking for a sign-in code by SMS.
    SendCodeForm(SendSignInCode);
    /// Signing in with an SMS code.
    PhoneLoginForm(PhoneLogin);
    /// Asking for a password reset.
    ForgotForm(ForgotPassword);
    /// Setting a new password after a reset.
    ResetForm(ResetPassword);
    /// Starting a TOTP enrolment.
    StartTotpForm(StartTotp);
    /// Confirming a TOTP enrolment with its first code.
    ConfirmTotpForm(ConfirmTotp);
    /// Removing a second factor.
    RemoveFactorForm(RemoveFactor);
    /// Making new recovery codes.
    RegenerateCodesForm(RegenerateCodes);
    /// The second step of signing in.
    SecondStepForm(LoginSecondStep);
    /// An admin removing a user's second factors.
    ResetFactorsForm(ResetUserFactors);
}
