//! Messages as Django stores them (`storage/cookie.py`'s `MessageEncoder`
//! and `MessageDecoder`, which the session storage uses too): a compact
//! JSON array of `["__json_message", is_safedata, level, message,
//! extra_tags]`, written as Python's `json.dumps(..., separators=(",",
//! ":"))` writes it (ASCII only), so Django and Shallot read each other's.

use shallot_guest::json_string;
use shallot_guest::messages::Message;

const MESSAGE_KEY: &str = "__json_message";
/// Django's `CookieStorage.not_finished`: the last item of a cookie whose
/// older (or, under `fallback`, newer) messages did not fit.
pub(crate) const NOT_FINISHED: &str = "__messagesnotfinished__";

/// One message's JSON (`MessagePartSerializer`). `is_safedata` is always
/// 0: a Shallot message is plain text, escaped when a template prints it.
pub(crate) fn part(message: &Message) -> String {
    format!(
        "[\"{MESSAGE_KEY}\",0,{},{},{}]",
        message.level,
        json_string(&message.message),
        json_string(&message.extra_tags)
    )
}

/// The parts as one JSON array (`MessagePartGatherSerializer`).
pub(crate) fn gather(parts: &[String]) -> String {
    format!("[{}]", parts.join(","))
}

/// Every message's JSON, as one array (`MessageEncoder().encode`).
pub(crate) fn encode(messages: &[Message]) -> String {
    gather(&messages.iter().map(part).collect::<Vec<_>>())
}

/// The messages in stored JSON, and whether it ended with the
/// `NOT_FINISHED` sentinel (which is removed); `None` for text that is not
/// a JSON array. A message Django marked safe is read as plain text; one
/// without `extra_tags` (Django's `None`) gets empty ones.
pub(crate) fn decode(text: &str) -> Option<(Vec<Message>, bool)> {
    let serde_json::Value::Array(mut items) = serde_json::from_str(text).ok()? else {
        return None;
    };
    let not_finished = items.last().and_then(|last| last.as_str()) == Some(NOT_FINISHED);
    if not_finished {
        items.pop();
    }
    let messages = items.iter().filter_map(message).collect();
    Some((messages, not_finished))
}

fn message(item: &serde_json::Value) -> Option<Message> {
    let fields = item.as_array()?;
    if fields.first()?.as_str()? != MESSAGE_KEY {
        return None;
    }
    let level = fields.get(2)?;
    // Django's `int(level)`: an integer, or a float cut toward zero.
    let level = level
        .as_i64()
        .or_else(|| level.as_f64().map(|f| f as i64))?;
    let level = i32::try_from(level).ok()?;
    let text = fields.get(3)?.as_str()?;
    let extra_tags = fields.get(4).and_then(|t| t.as_str()).unwrap_or("");
    Some(Message::new(level, text, extra_tags))
}
