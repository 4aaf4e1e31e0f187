//! Guest- and client-supplied text in the host's log.
//!
//! A newline in such text would start a line that reads like one of the
//! host's own (log forging), and an escape sequence could rewrite an
//! operator's terminal. Every such string reaches a log message through
//! [`Untrusted`], which writes control characters (and Unicode's line and
//! paragraph separators) as Rust escapes, `\n` or `\u{1b}`, and everything
//! else unchanged. Structured fields need nothing: `tracing`'s formatter
//! already writes string fields quoted and escaped.

use std::fmt;

/// Displays text with its control characters escaped.
pub(crate) struct Untrusted<'a>(pub(crate) &'a str);

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().expect("found a char there");
            write!(f, "{}", c.escape_default())?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::Untrusted;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        let forged = "ok\n2026-01-01T00:00:00Z ERROR shallot::cycle: forged\r\x1b[2J\u{2028}é✓";
        let shown = Untrusted(forged).to_string();
        assert_eq!(
            shown,
            "ok\\n2026-01-01T00:00:00Z ERROR shallot::cycle: forged\\r\\u{1b}[2J\\u{2028}é✓"
        );
        assert!(!shown.chars().any(char::is_control));
        assert_eq!(Untrusted("plain text").to_string(), "plain text");
    }
}
