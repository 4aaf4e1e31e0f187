//! Django's `messages` context processor
//! (`django.contrib.messages.context_processors.messages`): every
//! rendered template gets `messages`, the messages to show, and
//! `DEFAULT_MESSAGE_LEVELS` (`{"DEBUG": 10, ..., "ERROR": 40}`).
//!
//! Each message is an object with `message` (the text), `level`, `tags`,
//! `level_tag` and `extra_tags`, in Django's order: the stored ones, then
//! those added in this request. A template writes
//! `{% for message in messages %}<li class="{{ message.tags }}">{{
//! message.message }}</li>{% endfor %}` (Django's `{{ message }}` is
//! `{{ message.message }}` here: a JSON value cannot be both a string and
//! an object).
//!
//! Django consumes the messages when a template iterates over them; a
//! component cannot see what a template reads, so this processor reads
//! them (`shallot_guest::messages::get_messages`) on every rendering: a
//! page rendered with it consumes the messages even if its template does
//! not show them.
//!
//! Config: `tags`, Django's `MESSAGE_TAGS`: a list of `"LEVEL=tag"`
//! (`["40=danger", "50=critical"]`) over the default tags.

use shallot_guest::messages::{self, DEFAULT_LEVELS, DEFAULT_TAGS};
use shallot_guest::{Error, Map, Request, Value, config, context_processor, json};

#[context_processor]
fn context(req: &Request) -> Result<Map<String, Value>, Error> {
    let tags = level_tags()?;
    let level_tag = |level: i32| {
        tags.iter()
            .rev()
            .find(|(l, _)| *l == level)
            .map_or(String::new(), |(_, tag)| tag.clone())
    };
    let shown: Vec<Value> = messages::get_messages(req)
        .into_iter()
        .map(|m| {
            let level_tag = level_tag(m.level);
            let tags: Vec<&str> = [m.extra_tags.as_str(), level_tag.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect();
            json!({
                "message": m.message,
                "level": m.level,
                "tags": tags.join(" "),
                "level_tag": level_tag,
                "extra_tags": m.extra_tags,
            })
        })
        .collect();
    let levels: Map<String, Value> = DEFAULT_LEVELS
        .iter()
        .map(|(name, level)| ((*name).to_owned(), Value::from(*level)))
        .collect();
    let mut values = Map::new();
    values.insert("messages".into(), Value::Array(shown));
    values.insert("DEFAULT_MESSAGE_LEVELS".into(), Value::Object(levels));
    Ok(values)
}

/// Django's `get_level_tags()`: the default tags, then `MESSAGE_TAGS`
/// (later entries win).
fn level_tags() -> Result<Vec<(i32, String)>, Error> {
    let mut tags: Vec<(i32, String)> = DEFAULT_TAGS
        .iter()
        .map(|(level, tag)| (*level, (*tag).to_owned()))
        .collect();
    for entry in config::get_list("tags") {
        let parsed = entry
            .split_once('=')
            .and_then(|(level, tag)| Some((level.trim().parse().ok()?, tag.trim().to_owned())));
        let Some(pair) = parsed else {
            return Err(Error::internal(format!(
                "messages-context: each of tags must be \"LEVEL=tag\", not {entry:?}"
            )));
        };
        tags.push(pair);
    }
    Ok(tags)
}
