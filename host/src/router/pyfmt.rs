//! The bits of Python's string semantics that Django's checks and messages
//! rely on.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

/// `str.isidentifier()`: XID_Start or '_' first, XID_Continue after.
static IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\A[\p{XID_Start}_]\p{XID_Continue}*\z").expect("identifier regex is valid")
});

/// Characters `str.isprintable()` rejects: categories C* and Z* (the space
/// excepted, below).
static UNPRINTABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\A[\p{C}\p{Z}]\z").expect("unprintable regex is valid"));

/// Python's `str.isidentifier()`.
pub(super) fn is_identifier(s: &str) -> bool {
    IDENTIFIER.is_match(s)
}

/// Python's `repr(str)`, as Django's `%r` and `{!r}` put it in messages.
pub(super) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                let _ = match code {
                    0..=0xff => write!(out, "\\x{code:02x}"),
                    0x100..=0xffff => write!(out, "\\u{code:04x}"),
                    _ => write!(out, "\\U{code:08x}"),
                };
            }
        }
    }
    out.push(quote);
    out
}

fn is_printable(c: char) -> bool {
    c == ' ' || !UNPRINTABLE.is_match(c.encode_utf8(&mut [0; 4]))
}

/// Python's `re.escape` (3.7+): only the characters special in a pattern.
pub(super) fn re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
