//! What a view asks of the `csrf` middleware (`guests/csrf`), Django's
//! `django.middleware.csrf` functions.

use crate::Request;

/// The request attribute `rotate_token` sets and the middleware reads in
/// `process_response`.
pub const ROTATE_ATTRIBUTE: &str = "csrf_rotate";

/// Django's `rotate_token`: the response carries a new CSRF secret, so
/// tokens from before (say, a login page a visitor was given before
/// logging in) stop working after. `auth::login` calls it.
pub fn rotate_token(req: &Request) {
    req.set_attribute(ROTATE_ATTRIBUTE, "1");
}

/// The masked token for this request (Django's `get_token`), if the
/// middleware ran: what a form's hidden `csrfmiddlewaretoken` holds.
pub fn get_token(req: &Request) -> Option<String> {
    req.attribute("csrf_token")
}
