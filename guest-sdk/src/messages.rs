//! Django's messages framework (`django.contrib.messages`): one-time
//! notices for the next page a user sees, such as "Your changes were
//! saved." after a form redirects.
//!
//! ```ignore
//! use shallot_guest::messages;
//! messages::success(req, "Your changes were saved.")?;
//! ```
//!
//! The `messages` middleware (Django's `MessageMiddleware`) loads the
//! stored messages in `process_request` and stores what is left in
//! `process_response`; between the two, the messages travel as request
//! attributes, so that any layer in any language reads and adds them:
//!
//! - `messages`: the messages to show, a JSON array of
//!   `{"level":25,"message":"...","extra_tags":""}`. Set by the middleware,
//!   so its presence also says the middleware is installed;
//! - `messages_queued`: the messages added in this request and not yet
//!   shown (Django's `_queued_messages`), the same JSON;
//! - `messages_used`: `1` once the messages were read for display
//!   (Django's `used`, set by iterating the storage);
//! - `messages_level`: the minimum level recorded (Django's
//!   `MESSAGE_LEVEL`, the middleware's `level`).
//!
//! Django marks the messages as used when a template iterates over them.
//! The host renders templates and cannot tell what a template read, so
//! here reading them is [`get_messages`], which the `messages-context`
//! context processor calls on every rendering: a page rendered with that
//! processor consumes the messages whether or not its template shows them.

use crate::{Error, Request, json_string};

/// Django's `messages.DEBUG`.
pub const DEBUG: i32 = 10;
/// Django's `messages.INFO`, the default minimum level.
pub const INFO: i32 = 20;
/// Django's `messages.SUCCESS`.
pub const SUCCESS: i32 = 25;
/// Django's `messages.WARNING`.
pub const WARNING: i32 = 30;
/// Django's `messages.ERROR`.
pub const ERROR: i32 = 40;

/// Django's `constants.DEFAULT_LEVELS`: what templates get as
/// `DEFAULT_MESSAGE_LEVELS`.
pub const DEFAULT_LEVELS: [(&str, i32); 5] = [
    ("DEBUG", DEBUG),
    ("INFO", INFO),
    ("SUCCESS", SUCCESS),
    ("WARNING", WARNING),
    ("ERROR", ERROR),
];

/// Django's `constants.DEFAULT_TAGS`: a level's `level_tag`.
pub const DEFAULT_TAGS: [(i32, &str); 5] = [
    (DEBUG, "debug"),
    (INFO, "info"),
    (SUCCESS, "success"),
    (WARNING, "warning"),
    (ERROR, "error"),
];

/// The request attribute holding the messages to show.
pub const LOADED_ATTRIBUTE: &str = "messages";
/// The request attribute holding the messages added in this request.
pub const QUEUED_ATTRIBUTE: &str = "messages_queued";
/// The request attribute set to `1` once the messages were read.
pub const USED_ATTRIBUTE: &str = "messages_used";
/// The request attribute holding the minimum level recorded.
pub const LEVEL_ATTRIBUTE: &str = "messages_level";

/// One message (Django's `storage.base.Message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its level (`SUCCESS` is 25); any integer, as in Django.
    pub level: i32,
    /// The text.
    pub message: String,
    /// Extra CSS classes given when it was added (Django's `extra_tags`).
    pub extra_tags: String,
}

impl Message {
    /// A message of `level` with `extra_tags`.
    pub fn new(level: i32, message: impl Into<String>, extra_tags: impl Into<String>) -> Self {
        Message {
            level,
            message: message.into(),
            extra_tags: extra_tags.into(),
        }
    }

    /// Django's `level_tag`: `success` for 25, empty for a level without
    /// a tag (Django's `MESSAGE_TAGS` is the `messages-context`
    /// processor's `tags` config).
    pub fn level_tag(&self) -> &'static str {
        DEFAULT_TAGS
            .iter()
            .find(|(level, _)| *level == self.level)
            .map_or("", |(_, tag)| tag)
    }

    /// Django's `tags`: the extra tags, then the level's tag, the empty
    /// ones left out.
    pub fn tags(&self) -> String {
        [self.extra_tags.as_str(), self.level_tag()]
            .iter()
            .filter(|tag| !tag.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl std::fmt::Display for Message {
    /// The text, as Django's `str(message)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Messages as the request attributes hold them: a JSON array of
/// `{"level":25,"message":"...","extra_tags":""}`.
pub fn to_json(messages: &[Message]) -> String {
    let items: Vec<String> = messages
        .iter()
        .map(|m| {
            format!(
                "{{\"level\":{},\"message\":{},\"extra_tags\":{}}}",
                m.level,
                json_string(&m.message),
                json_string(&m.extra_tags)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// The messages in an attribute's JSON; entries that are not messages
/// (and text that is not a JSON array) are skipped, so a layer that wrote
/// the attribute badly costs its messages, not the page.
pub fn from_json(text: &str) -> Vec<Message> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let level = i32::try_from(item.get("level")?.as_i64()?).ok()?;
            let message = item.get("message")?.as_str()?;
            let extra_tags = item
                .get("extra_tags")
                .and_then(|t| t.as_str())
                .unwrap_or("");
            Some(Message::new(level, message, extra_tags))
        })
        .collect()
}

fn attribute_messages(req: &Request, name: &str) -> Vec<Message> {
    req.attribute(name).map_or_else(Vec::new, |j| from_json(&j))
}

/// Django's `MessageFailure`: adding a message without the middleware.
/// It names the component to install, where Django names its module path
/// (`django.contrib.messages.middleware.MessageMiddleware`).
pub fn message_failure() -> Error {
    Error::internal(
        "MessageFailure: You cannot add messages without installing \
         the messages middleware (guests/messages, Django's MessageMiddleware)",
    )
}

/// Django's `messages.add_message(request, level, message)`: queues the
/// message for the next page shown. An empty message, or one below the
/// request's level ([`get_level`]), is dropped, as in Django. Without the
/// `messages` middleware it fails with Django's `MessageFailure` (a 500
/// unless handled), so a forgotten middleware is not a silent loss.
pub fn add_message(req: &Request, level: i32, message: &str) -> Result<(), Error> {
    add_message_with(req, level, message, "", false)
}

/// [`add_message`] with Django's keyword arguments: `extra_tags` (CSS
/// classes for this message) and `fail_silently` (no error without the
/// middleware; the message is dropped).
pub fn add_message_with(
    req: &Request,
    level: i32,
    message: &str,
    extra_tags: &str,
    fail_silently: bool,
) -> Result<(), Error> {
    if req.attribute(LOADED_ATTRIBUTE).is_none() {
        return if fail_silently {
            Ok(())
        } else {
            Err(message_failure())
        };
    }
    if message.is_empty() || level < get_level(req) {
        return Ok(());
    }
    let mut queued = attribute_messages(req, QUEUED_ATTRIBUTE);
    queued.push(Message::new(level, message, extra_tags));
    req.set_attribute(QUEUED_ATTRIBUTE, &to_json(&queued));
    Ok(())
}

/// Django's `messages.debug(request, message)`.
pub fn debug(req: &Request, message: &str) -> Result<(), Error> {
    add_message(req, DEBUG, message)
}

/// Django's `messages.info(request, message)`.
pub fn info(req: &Request, message: &str) -> Result<(), Error> {
    add_message(req, INFO, message)
}

/// Django's `messages.success(request, message)`.
pub fn success(req: &Request, message: &str) -> Result<(), Error> {
    add_message(req, SUCCESS, message)
}

/// Django's `messages.warning(request, message)`.
pub fn warning(req: &Request, message: &str) -> Result<(), Error> {
    add_message(req, WARNING, message)
}

/// Django's `messages.error(request, message)`.
pub fn error(req: &Request, message: &str) -> Result<(), Error> {
    add_message(req, ERROR, message)
}

/// Iterating Django's `messages.get_messages(request)`: the stored
/// messages, then those added in this request, in order. Reading them is
/// what Django's iteration does: it marks them used, so the middleware
/// stores only what is added after this call. Without the middleware,
/// none (Django's empty list).
pub fn get_messages(req: &Request) -> Vec<Message> {
    if req.attribute(LOADED_ATTRIBUTE).is_none() {
        return Vec::new();
    }
    let mut messages = attribute_messages(req, LOADED_ATTRIBUTE);
    let queued = attribute_messages(req, QUEUED_ATTRIBUTE);
    if !queued.is_empty() {
        messages.extend(queued);
        req.set_attribute(LOADED_ATTRIBUTE, &to_json(&messages));
        req.set_attribute(QUEUED_ATTRIBUTE, "[]");
    }
    req.set_attribute(USED_ATTRIBUTE, "1");
    messages
}

/// Django's `messages.get_level(request)`: the minimum level recorded,
/// the middleware's `level` (`INFO` when it has none).
pub fn get_level(req: &Request) -> i32 {
    req.attribute(LEVEL_ATTRIBUTE)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(INFO)
}

/// Django's `messages.set_level(request, level)`: the minimum level for
/// the rest of this request; `false` (nothing set) without the middleware.
pub fn set_level(req: &Request, level: i32) -> bool {
    if req.attribute(LOADED_ATTRIBUTE).is_none() {
        return false;
    }
    req.set_attribute(LEVEL_ATTRIBUTE, &level.to_string());
    true
}
