//! Django's `MessageMiddleware` (`django/contrib/messages`) and its three
//! storages, picked by the config key `storage`:
//!
//! - `"fallback"` (the default, Django's `MESSAGE_STORAGE` default,
//!   `FallbackStorage`): the cookie first; messages that do not fit in it
//!   go to the session;
//! - `"cookie"` (`CookieStorage`): a signed cookie (`cookie.rs`);
//! - `"session"` (`SessionStorage`): the session's `_messages` key.
//!
//! The session storages need `sessions` or `sessions-sql` listed before
//! this middleware, as Django needs `SessionMiddleware` before
//! `MessageMiddleware`: the session is the request attribute `session`
//! (`k=v&k2=v2`), which this middleware changes in `process_response`
//! and the session middleware, further out, then saves.
//!
//! `process_request` loads the stored messages into the request attributes
//! `shallot_guest::messages` reads and writes (`messages`,
//! `messages_level`); `process_response` is Django's `BaseStorage.update`:
//! if the messages were read (`messages_used`), only those added since are
//! stored; else if some were added (`messages_queued`), the loaded ones and
//! those; else the storage is left as it is.
//!
//! Config: `storage`, `level` (Django's `MESSAGE_LEVEL`, 20), and the
//! cookie's keys (see `cookie.rs`). Grant the secret's variable
//! (`env = ["SHALLOT_SESSION_SECRET"]`) for `cookie` and `fallback`.

mod cookie;
mod stored;

use cookie::CookieStorage;
use shallot_guest::messages::{self, Message};
use shallot_guest::{Error, Middleware, Request, Response, config, log, middleware, session};

/// Django's `SessionStorage.session_key`.
const SESSION_KEY: &str = "_messages";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fallback,
    Cookie,
    Session,
}

/// One request's storage, between `process_request` and `process_response`.
#[derive(Default)]
struct MessageMiddleware {
    state: Option<State>,
}

struct State {
    kind: Kind,
    cookie: Option<CookieStorage>,
    /// Django's `_loaded_data`.
    loaded: Vec<Message>,
    /// `FallbackStorage._used_storages`: which storages held messages, so
    /// that they are emptied when nothing is left to store.
    cookie_held: bool,
    session_held: bool,
}

pub(crate) fn setting(key: &str, default: &str) -> String {
    config::get(key).unwrap_or_else(|| default.to_owned())
}

/// A boolean config key; anything but a TOML boolean fails the layer, so a
/// typo is not read as "off".
pub(crate) fn flag(key: &str, default: bool) -> Result<bool, Error> {
    match config::get(key).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(Error::internal(format!(
            "messages: {key} must be true or false, not {other:?}"
        ))),
    }
}

fn kind() -> Result<Kind, Error> {
    match setting("storage", "fallback").as_str() {
        "fallback" => Ok(Kind::Fallback),
        "cookie" => Ok(Kind::Cookie),
        "session" => Ok(Kind::Session),
        other => Err(Error::internal(format!(
            "messages: storage must be \"fallback\", \"cookie\" or \"session\", not {other:?}"
        ))),
    }
}

fn level() -> Result<i32, Error> {
    let text = setting("level", &messages::INFO.to_string());
    text.trim().parse().map_err(|_| {
        Error::internal(format!(
            "messages: level must be a whole number (Django's MESSAGE_LEVEL), not {text:?}"
        ))
    })
}

#[middleware]
impl Middleware for MessageMiddleware {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        self.state = None;
        let kind = kind()?;
        let level = level()?;
        if kind != Kind::Cookie && !session::installed(req) {
            // Django's SessionStorage refuses a request without a session
            // (ImproperlyConfigured).
            return Err(Error::internal(
                "The session-based temporary message storage requires session middleware to be \
                 installed, and come before the message middleware in the MIDDLEWARE list \
                 (list sessions or sessions-sql before messages)",
            ));
        }
        let cookie = match kind {
            Kind::Session => None,
            _ => Some(CookieStorage::from_config()?),
        };
        let mut state = State {
            kind,
            cookie,
            loaded: Vec::new(),
            cookie_held: false,
            session_held: false,
        };
        state.load(req);
        req.set_attribute(
            messages::LOADED_ATTRIBUTE,
            &messages::to_json(&state.loaded),
        );
        req.set_attribute(messages::LEVEL_ATTRIBUTE, &level.to_string());
        self.state = Some(state);
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        // A layer further out may have answered before process_request ran
        // (Django: "make no assumption that it will be there").
        let Some(state) = self.state.take() else {
            return Ok(resp);
        };
        let queued = req
            .attribute(messages::QUEUED_ATTRIBUTE)
            .map_or_else(Vec::new, |j| messages::from_json(&j));
        let used = req.attribute(messages::USED_ATTRIBUTE).as_deref() == Some("1");
        let to_store = if used {
            queued
        } else if !queued.is_empty() {
            let mut all = state.loaded.clone();
            all.extend(queued);
            all
        } else {
            return Ok(resp);
        };
        let unstored = state.store(req, &resp, to_store)?;
        if !unstored.is_empty() {
            // Django raises only with DEBUG on; it drops them silently.
            log::warn(&format!(
                "{} message(s) did not fit in the cookie and were dropped",
                unstored.len()
            ));
        }
        Ok(resp)
    }
}

impl State {
    /// Django's `_get` for the configured storage.
    fn load(&mut self, req: &Request) {
        match self.kind {
            Kind::Session => self.loaded = session_get(req).unwrap_or_default(),
            Kind::Cookie => {
                let cookie = self
                    .cookie
                    .as_ref()
                    .expect("the cookie storage has a cookie");
                self.loaded = cookie.get(req).map(|(m, _)| m).unwrap_or_default();
            }
            Kind::Fallback => {
                // FallbackStorage._get: the session is read only when the
                // cookie says it did not hold them all.
                let cookie = self
                    .cookie
                    .as_ref()
                    .expect("the fallback storage has a cookie");
                let Some((messages, all_retrieved)) = cookie.get(req) else {
                    return;
                };
                self.cookie_held = !messages.is_empty();
                self.loaded = messages;
                if all_retrieved {
                    return;
                }
                if let Some(messages) = session_get(req) {
                    self.session_held = !messages.is_empty();
                    self.loaded.extend(messages);
                }
            }
        }
    }

    /// Django's `_store` for the configured storage: what could not be
    /// stored.
    fn store(
        &self,
        req: &Request,
        resp: &Response,
        messages: Vec<Message>,
    ) -> Result<Vec<Message>, Error> {
        let cookie = self.cookie.as_ref();
        match self.kind {
            Kind::Session => {
                session_set(req, &messages);
                Ok(Vec::new())
            }
            Kind::Cookie => cookie
                .expect("the cookie storage has a cookie")
                .store(resp, messages, true),
            Kind::Fallback => {
                // FallbackStorage._store: each storage takes what the one
                // before could not; one that held messages is emptied even
                // when nothing is left for it.
                let cookie = cookie.expect("the fallback storage has a cookie");
                let mut messages = messages;
                if !messages.is_empty() {
                    messages = cookie.store(resp, messages, false)?;
                } else if self.cookie_held {
                    cookie.store(resp, Vec::new(), false)?;
                }
                if !messages.is_empty() {
                    session_set(req, &messages);
                    messages = Vec::new();
                } else if self.session_held {
                    session_set(req, &[]);
                }
                Ok(messages)
            }
        }
    }
}

/// `SessionStorage._get`: the messages under the session's `_messages`,
/// `None` when it has none. Data that is not Django's JSON is read as no
/// messages (and logged), where Django's `json.loads` would fail the
/// request.
fn session_get(req: &Request) -> Option<Vec<Message>> {
    let data = session::get(req, SESSION_KEY).filter(|data| !data.is_empty())?;
    match stored::decode(&data) {
        Some((messages, _)) => Some(messages),
        None => {
            log::warn("the session's _messages is not a JSON list of messages; ignored");
            None
        }
    }
}

/// `SessionStorage._store`: the messages under the session's `_messages`,
/// or the key removed when there are none (the rest of the session stays
/// as it was, so the session middleware saves it only when the messages
/// changed).
fn session_set(req: &Request, messages: &[Message]) {
    if messages.is_empty() {
        session::remove(req, SESSION_KEY);
    } else {
        session::set(req, SESSION_KEY, &stored::encode(messages));
    }
}
