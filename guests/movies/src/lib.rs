//! The example app's views (`examples/movies`): the catalogue as template
//! responses. The route's name picks the page:
//!
//! - `movies:list`: every movie (`movies/list.html`);
//! - `movies:detail` (`pk`): one movie (`movies/detail.html`), or Django's
//!   `Http404` for an unknown one.
//!
//! The catalogue is computed, not stored: fifty movies whose fields follow
//! from their number, so the Django twin in `bench/templates` renders the
//! very same page.

use shallot_guest::{
    Error, Request, Response, TemplateResponse, Value, ViewInfo, json, require_method, view,
};

/// How many movies the catalogue has.
const MOVIES: u64 = 50;

fn movie(id: u64) -> Value {
    json!({
        "id": id,
        "title": format!("Movie {id}"),
        "year": 1950 + id,
        "votes": id * 37 % 100,
        "tagline": format!("Episode {id} of love & <loss> in the city, told slowly"),
    })
}

#[view]
fn movies(req: &Request, view: ViewInfo) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET", "HEAD"]) {
        return Ok(not_allowed);
    }
    match view.route_name.as_deref() {
        Some("movies:detail") => {
            let pk = view
                .kwargs
                .iter()
                .find(|(k, _)| k == "pk")
                .and_then(|(_, v)| v.parse::<u64>().ok())
                .filter(|pk| (1..=MOVIES).contains(pk))
                .ok_or_else(|| Error::not_found("No movie matches the given query."))?;
            TemplateResponse::new("movies/detail.html", json!({ "movie": movie(pk) }))
        }
        _ => {
            let movies: Vec<Value> = (1..=MOVIES).map(movie).collect();
            TemplateResponse::new("movies/list.html", json!({ "movies": movies }))
        }
    }
}
