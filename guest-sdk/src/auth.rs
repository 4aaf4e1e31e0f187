//! `request.user` and its permissions, as the `authentication` and
//! `permissions` middleware leave them on the request (Django's
//! `django.contrib.auth`): attributes `user` (the username), `user_id`,
//! `user_is_staff` and `user_is_superuser` (`1` or `0`), and
//! `user_permissions` (`app_label.codename`, space-separated). Without
//! them the user is anonymous.

use crate::{Error, Request, form_value};

/// The logged-in user, if the `authentication` middleware found one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its primary key.
    pub id: i64,
    /// `username`.
    pub username: String,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`: every permission, as in Django.
    pub is_superuser: bool,
}

/// The username the session names (its `user` entry), whether or not that
/// user exists: what the `authentication` middleware looks up.
pub fn session_user(req: &Request) -> Option<String> {
    let session = req.attribute("session")?;
    form_value(&session, "user").filter(|user| !user.is_empty())
}

/// `request.user`, or `None` for Django's `AnonymousUser`.
pub fn user(req: &Request) -> Option<User> {
    let id = req.attribute("user_id")?.parse().ok()?;
    Some(User {
        id,
        username: req.attribute("user").unwrap_or_default(),
        is_staff: req.attribute("user_is_staff").as_deref() == Some("1"),
        is_superuser: req.attribute("user_is_superuser").as_deref() == Some("1"),
    })
}

/// Django's `user.has_perm("app_label.codename")`: an active superuser has
/// every permission, an anonymous user none; others what the
/// `permissions` middleware loaded (their own and their groups').
pub fn has_perm(req: &Request, perm: &str) -> bool {
    match user(req) {
        None => false,
        Some(user) if user.is_superuser => true,
        Some(_) => req
            .attribute("user_permissions")
            .is_some_and(|perms| perms.split(' ').any(|p| p == perm)),
    }
}

/// Django's `@permission_required(perm, raise_exception=True)` for a view:
/// `Err(PermissionDenied)` (403) unless the user has `perm`, so that a
/// view starts with `permission_required(req, "notes.add_note")?;`.
pub fn permission_required(req: &Request, perm: &str) -> Result<(), Error> {
    if has_perm(req, perm) {
        Ok(())
    } else {
        Err(Error::permission_denied(format!(
            "permission {perm} required"
        )))
    }
}
