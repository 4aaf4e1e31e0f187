//! Template filters:
//!
//! - `shout`: the value in capitals with "!" (`{{ title|shout }}`);
//! - `emphasize`: `<em>value</em>`, the value escaped, marked safe (Django's
//!   `mark_safe` after `escape`);
//! - `words(n)`: the first `n` words, like Django's `truncatewords`;
//! - `explode`: panics, to show a crashing filter fails only its request.

use shallot_guest::{Error, Filtered, Value, filters};

#[filters("shout", "emphasize", "words", "explode")]
fn apply(name: &str, value: Value, args: Vec<Value>) -> Result<Filtered, Error> {
    let text = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match name {
        "shout" => Ok(Filtered::Value(Value::from(format!(
            "{}!",
            text.to_uppercase()
        )))),
        "emphasize" => Ok(Filtered::Safe(format!("<em>{}</em>", escape(&text)))),
        "words" => {
            let n = args
                .first()
                .and_then(Value::as_u64)
                .ok_or_else(|| Error::internal("words needs the number of words, e.g. words(3)"))?;
            let words: Vec<&str> = text.split_whitespace().collect();
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let mut out = words.iter().take(n).copied().collect::<Vec<_>>().join(" ");
            if words.len() > n {
                out.push_str(" …");
            }
            Ok(Filtered::Value(Value::from(out)))
        }
        "explode" => panic!("the explode filter always crashes"),
        other => Err(Error::internal(format!("no filter {other}"))),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
