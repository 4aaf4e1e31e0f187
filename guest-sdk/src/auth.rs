//! `request.user` and its permissions, as the `authentication` and
//! `permissions` middleware leave them on the request (Django's
//! `django.contrib.auth`): attributes `user` (the username), `user_id`,
//! `user_is_staff` and `user_is_superuser` (`1` or `0`), and
//! `user_permissions` (`app_label.codename`, space-separated). Without
//! them the user is anonymous.

use crate::{Error, Request, csrf, session};

/// The session key naming the logged-in user.
const SESSION_USER: &str = "user";

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
    session::get(req, SESSION_USER).filter(|user| !user.is_empty())
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

/// Django's `login(request, user)` once the password is checked: the
/// session names `username`, under a new session key (`cycle_key`) and
/// with a new CSRF secret (`rotate_token`), both against fixation. A
/// session that named another user is emptied first, as Django's is.
pub fn login(req: &Request, username: &str) {
    if session::get(req, SESSION_USER).is_some_and(|u| u != username) {
        session::flush(req);
    }
    session::set(req, SESSION_USER, username);
    session::cycle_key(req);
    csrf::rotate_token(req);
}

/// Django's `logout(request)`: the session is flushed (its data, row and
/// cookie deleted) and the user is anonymous from here on.
pub fn logout(req: &Request) {
    session::flush(req);
    for attribute in [
        "user",
        "user_id",
        "user_is_staff",
        "user_is_superuser",
        "user_permissions",
    ] {
        req.set_attribute(attribute, "");
    }
}
