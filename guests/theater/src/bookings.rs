//! The `bookings` app: booking a seat, and the user's bookings. A seat is
//! booked at most once per showtime whatever the concurrency: the table's
//! `UNIQUE (showtime_id, seat)` decides, and the insert that loses finds
//! the seat taken (`ON CONFLICT DO NOTHING` affects no row).

use shallot_guest::auth;
use shallot_guest::{
    Error, Request, Response, TemplateResponse, form_value, json, messages, require_method, urls,
};

use crate::{db, login_required, redirect};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn book(req: &Request, showtime: i64) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["POST"]) {
        return Ok(not_allowed);
    }
    if let Some(to_login) = login_required(req)? {
        return Ok(to_login);
    }
    let user = auth::user(req).expect("login_required let a user through");
    let db = db()?;
    let found = db.query(
        "SELECT s.seats, s.starts_at, m.id AS movie_id, m.title FROM movies_showtime s \
         JOIN movies_movie m ON m.id = s.movie_id WHERE s.id = $1",
        &[showtime.into()],
    )?;
    let show = found
        .records()
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("No Showtime matches the given query."))?;
    let movie_id = show["movie_id"].as_i64().unwrap_or_default().to_string();
    let back = urls::reverse("movies:detail", &[], &[("pk", &movie_id)])?;
    let (title, starts_at) = (
        show["title"].as_str().unwrap_or_default(),
        show["starts_at"].as_str().unwrap_or_default(),
    );
    let seats = show["seats"].as_i64().unwrap_or_default();
    let form =
        String::from_utf8(req.body()).map_err(|_| Error::bad_request("form is not UTF-8"))?;
    let seat = form_value(&form, "seat")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| (1..=seats).contains(s));
    let Some(seat) = seat else {
        messages::error(req, &format!("Choose a seat from 1 to {seats}."))?;
        return redirect(&back);
    };
    let inserted = db.execute(
        "INSERT INTO bookings_booking (showtime_id, seat, user_id, booked_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (showtime_id, seat) DO NOTHING",
        &[showtime.into(), seat.into(), user.id.into(), now().into()],
    )?;
    if inserted.rows_affected == 0 {
        messages::error(
            req,
            &format!("Seat {seat} for {title} at {starts_at} is already taken."),
        )?;
        return redirect(&back);
    }
    messages::success(
        req,
        &format!("Booked seat {seat} for {title} at {starts_at}."),
    )?;
    redirect(&urls::reverse("bookings:mine", &[], &[])?)
}

pub(crate) fn mine(req: &Request) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET", "HEAD"]) {
        return Ok(not_allowed);
    }
    if let Some(to_login) = login_required(req)? {
        return Ok(to_login);
    }
    let user = auth::user(req).expect("login_required let a user through");
    let bookings = db()?.query(
        "SELECT b.seat, s.starts_at, s.screen, m.id AS movie_id, m.title \
         FROM bookings_booking b JOIN movies_showtime s ON s.id = b.showtime_id \
         JOIN movies_movie m ON m.id = s.movie_id WHERE b.user_id = $1 \
         ORDER BY s.starts_at, b.seat",
        &[user.id.into()],
    )?;
    TemplateResponse::new(
        "bookings/mine.html",
        json!({ "bookings": bookings.records() }),
    )
}
