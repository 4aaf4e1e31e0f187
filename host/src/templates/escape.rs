//! Output as Jinja2 writes it in a Django project: HTML escaping by
//! MarkupSafe's rules (minijinja also escapes `/`, Jinja2 does not), only
//! for `.html`, `.htm` and `.xml` templates, and Python's spelling of
//! `True`, `False` and `None`.

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, Output, State};

/// Sets the escaping rules, the formatter and the `escape`/`e` filters.
pub(super) fn install(env: &mut Environment<'static>) {
    env.set_auto_escape_callback(|name| {
        let ext = name.rsplit_once('.').map_or("", |(_, ext)| ext);
        match ext {
            "html" | "htm" | "xml" => AutoEscape::Html,
            _ => AutoEscape::None,
        }
    });
    env.set_formatter(format);
    env.add_filter("escape", escape_filter);
    env.add_filter("e", escape_filter);
}

fn format(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    let python = match value.kind() {
        ValueKind::Bool if value.is_true() => Some("True"),
        ValueKind::Bool => Some("False"),
        ValueKind::None => Some("None"),
        _ => None,
    };
    let text = match python {
        Some(word) => word.to_owned(),
        None if value.is_undefined() => return Ok(()),
        None => value.to_string(),
    };
    if value.is_safe() || state.auto_escape() != AutoEscape::Html {
        out.write_str(&text)?;
    } else {
        out.write_str(&markupsafe(&text))?;
    }
    Ok(())
}

fn escape_filter(value: &Value) -> Value {
    if value.is_safe() {
        return value.clone();
    }
    Value::from_safe_string(markupsafe(&value.to_string()))
}

/// MarkupSafe's `escape`: `& < > " '`.
pub(super) fn markupsafe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
