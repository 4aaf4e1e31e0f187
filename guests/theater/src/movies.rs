//! The `movies` app: the list, one movie with its showtimes and free
//! seats, and the staff page that adds a movie.

use shallot_guest::sql::Value as Sql;
use shallot_guest::{
    Error, Map, Request, Response, TemplateResponse, Value, form_value, json, messages,
    require_method, urls,
};

use crate::{db, redirect};

pub(crate) fn list(req: &Request) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET", "HEAD"]) {
        return Ok(not_allowed);
    }
    let movies = db()?.query(
        "SELECT m.id, m.title, m.year, m.runtime_minutes, m.tagline, m.poster, \
         (SELECT COUNT(*) FROM movies_showtime s WHERE s.movie_id = m.id) AS showtimes \
         FROM movies_movie m ORDER BY m.title",
        &[],
    )?;
    TemplateResponse::new("movies/list.html", json!({ "movies": movies.records() }))
}

pub(crate) fn detail(req: &Request, pk: i64) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET", "HEAD"]) {
        return Ok(not_allowed);
    }
    let db = db()?;
    let movie = db.query(
        "SELECT id, title, year, runtime_minutes, tagline, synopsis, poster \
         FROM movies_movie WHERE id = $1",
        &[pk.into()],
    )?;
    // Django's get_object_or_404, with its message.
    let movie = movie
        .records()
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("No Movie matches the given query."))?;
    let showtimes = db.query(
        "SELECT id, starts_at, screen, seats FROM movies_showtime \
         WHERE movie_id = $1 ORDER BY starts_at",
        &[pk.into()],
    )?;
    let taken = db.query(
        "SELECT b.showtime_id, b.seat FROM bookings_booking b \
         JOIN movies_showtime s ON s.id = b.showtime_id WHERE s.movie_id = $1",
        &[pk.into()],
    )?;
    let taken: Vec<(i64, i64)> = taken
        .rows
        .iter()
        .filter_map(|row| Some((row.first()?.as_i64()?, row.get(1)?.as_i64()?)))
        .collect();
    let showtimes: Vec<Value> = showtimes
        .records()
        .into_iter()
        .map(|mut showtime| {
            let id = showtime["id"].as_i64().unwrap_or_default();
            let seats = showtime["seats"].as_i64().unwrap_or_default();
            let free: Vec<i64> = (1..=seats)
                .filter(|seat| !taken.contains(&(id, *seat)))
                .collect();
            showtime["free_seats"] = json!(free);
            showtime
        })
        .collect();
    TemplateResponse::new(
        "movies/detail.html",
        json!({ "movie": movie, "showtimes": showtimes }),
    )
}

/// The add-a-movie form's fields, checked as a Django `ModelForm` would:
/// the values to insert, or each field's errors.
struct NewMovie {
    title: String,
    year: i64,
    runtime_minutes: i64,
    tagline: String,
    synopsis: String,
}

const REQUIRED: &str = "This field is required.";

fn clean(form: &str) -> Result<NewMovie, Map<String, Value>> {
    let mut errors = Map::new();
    let text = |field: &str| {
        form_value(form, field)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let mut number = |field: &str, range: std::ops::RangeInclusive<i64>| {
        let value = text(field);
        match value.parse::<i64>() {
            _ if value.is_empty() => errors.insert(field.into(), REQUIRED.into()),
            Ok(n) if range.contains(&n) => return n,
            Ok(_) => errors.insert(
                field.into(),
                format!(
                    "Ensure this value is between {} and {}.",
                    range.start(),
                    range.end()
                )
                .into(),
            ),
            Err(_) => errors.insert(field.into(), "Enter a whole number.".into()),
        };
        0
    };
    let year = number("year", 1888..=2100);
    let runtime_minutes = number("runtime_minutes", 1..=600);
    let movie = NewMovie {
        title: text("title"),
        year,
        runtime_minutes,
        tagline: text("tagline"),
        synopsis: text("synopsis"),
    };
    if movie.title.is_empty() {
        errors.insert("title".into(), REQUIRED.into());
    } else if movie.title.chars().count() > 200 {
        errors.insert(
            "title".into(),
            "Ensure this value has at most 200 characters.".into(),
        );
    }
    if errors.is_empty() {
        Ok(movie)
    } else {
        Err(errors)
    }
}

/// Staff only: the `permissions` middleware's `required` names this view
/// with `movies.add_movie` before it runs.
pub(crate) fn add(req: &Request) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET", "POST"]) {
        return Ok(not_allowed);
    }
    if req.method() == "GET" {
        return TemplateResponse::new("movies/add.html", json!({ "errors": {}, "form": {} }));
    }
    let form =
        String::from_utf8(req.body()).map_err(|_| Error::bad_request("form is not UTF-8"))?;
    let movie = match clean(&form) {
        Ok(movie) => movie,
        Err(errors) => {
            let values: Map<String, Value> =
                ["title", "year", "runtime_minutes", "tagline", "synopsis"]
                    .iter()
                    .map(|f| {
                        (
                            (*f).to_owned(),
                            form_value(&form, f).unwrap_or_default().into(),
                        )
                    })
                    .collect();
            return TemplateResponse::new(
                "movies/add.html",
                json!({ "errors": errors, "form": values }),
            );
        }
    };
    let done = db()?.execute(
        "INSERT INTO movies_movie (title, year, runtime_minutes, tagline, synopsis, poster) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            movie.title.as_str().into(),
            movie.year.into(),
            movie.runtime_minutes.into(),
            movie.tagline.into(),
            movie.synopsis.into(),
            Sql::from("posters/default.svg"),
        ],
    )?;
    let id = done
        .last_insert_id
        .ok_or_else(|| Error::internal("the database gave no id for the new movie"))?;
    messages::success(req, &format!("Added \u{201c}{}\u{201d}.", movie.title))?;
    redirect(&urls::reverse(
        "movies:detail",
        &[],
        &[("pk", &id.to_string())],
    )?)
}
