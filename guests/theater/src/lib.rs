//! The views of the movie-theater example (`examples/movie-theater`): one
//! component for the `movies` and `bookings` apps, the route's name
//! (with its namespace) picking the view, as a Django app's `views.py`
//! holds several. Every page is a template response; every link and
//! redirect is built with `reverse`.
//!
//! - `movies:list`, `movies:detail` (`pk`), `movies:add` (staff: the
//!   `permissions` middleware guards it): `movies.rs`;
//! - `bookings:book` (`showtime`, POST), `bookings:mine`: `bookings.rs`.
//!
//! Config: `database` (`default`). Grants: `sql_databases = ["default"]`
//! (bookings and new movies are written).

mod bookings;
mod movies;

use shallot_guest::sql::Connection;
use shallot_guest::{Error, Request, Response, ViewInfo, config, quote, urls, view};

#[view]
fn theater(req: &Request, view: ViewInfo) -> Result<Response, Error> {
    match view.route_name.as_deref() {
        Some("movies:list") => movies::list(req),
        Some("movies:detail") => movies::detail(req, kwarg(&view, "pk")?),
        Some("movies:add") => movies::add(req),
        Some("bookings:book") => bookings::book(req, kwarg(&view, "showtime")?),
        Some("bookings:mine") => bookings::mine(req),
        other => Err(Error::internal(format!(
            "theater: no view for route {other:?}"
        ))),
    }
}

/// The database the views read and write.
fn db() -> Result<Connection, Error> {
    let name = config::get("database").unwrap_or_else(|| "default".to_owned());
    Ok(Connection::open(&name)?)
}

/// An `<int:...>` value of the route.
fn kwarg(view: &ViewInfo, name: &str) -> Result<i64, Error> {
    view.kwargs
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| Error::internal(format!("theater: the route has no <int:{name}>")))
}

/// A 302 to `to` (Django's `redirect`).
fn redirect(to: &str) -> Result<Response, Error> {
    let resp = Response::new(302);
    resp.set_header("Location", to)?;
    Ok(resp)
}

/// Django's `@login_required`: `None` for a logged-in user, else the
/// redirect to the login page with `?next=` this path.
fn login_required(req: &Request) -> Result<Option<Response>, Error> {
    if shallot_guest::auth::user(req).is_some() {
        return Ok(None);
    }
    let login = urls::reverse("accounts:login", &[], &[])?;
    redirect(&format!("{login}?next={}", quote(&req.path()))).map(Some)
}
