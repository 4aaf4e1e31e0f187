//! Django's `regex_helper.normalize`: a route's regex turned into the
//! strings `reverse()` can fill in. It is not a regex decompiler and does
//! not try to be; it reproduces Django's choices so that the same routes
//! reverse to the same URLs:
//!
//! - a repeated part keeps its minimum count (`?` and `*` drop it, `{3}`
//!   repeats it), except that an optional part holding a group gives two
//!   forms, without it and with it once;
//! - a character class becomes its first character (`[0-9]` is `0`, and
//!   `[^/]` is `^`, as in Django), `.` stays `.`, `\d` is `0`, `\w` is `x`;
//! - `^`, `\A`, `\b`, `\Z`, look-arounds and inline flags are dropped, and
//!   everything after an unescaped `$` too;
//! - a pattern with `|` outside a group has no reversible form but the
//!   empty one.

/// A piece of a form: text, or the value of a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    Param(String),
}

/// One way to fill in a pattern: its pieces and the parameters it takes
/// (positional groups are named `_0`, `_1`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Form {
    pub(super) pieces: Vec<Piece>,
    pub(super) params: Vec<String>,
}

/// What the scan keeps of the pattern.
#[derive(Debug, Clone)]
enum Elt {
    Char(char),
    /// A capturing group; `param` is `None` for a named backreference,
    /// which fills in a value without taking a parameter of its own.
    Group {
        name: String,
        param: Option<String>,
    },
    /// Zero or one occurrence of a part holding a group.
    Optional(Box<Elt>),
    NonCapture(Vec<Elt>),
}

/// Why a pattern has no reversible form (Django raises; Shallot's reverse
/// simply finds nothing for it).
#[derive(Debug)]
pub(super) struct NotReversible;

/// The pattern's characters, with escapes replaced by a representative of
/// their class (`\d` -> `0`) or skipped (`\b`, `\Z`); `true` when escaped.
fn chars(pattern: &str) -> impl Iterator<Item = (char, bool)> + '_ {
    let mut it = pattern.chars();
    std::iter::from_fn(move || {
        loop {
            let c = it.next()?;
            if c != '\\' {
                return Some((c, false));
            }
            let escaped = it.next()?;
            let representative = match escaped {
                'A' | 'b' | 'B' | 'Z' => None,
                'd' => Some('0'),
                'D' | 'S' | 'w' => Some('x'),
                's' => Some(' '),
                'W' => Some('!'),
                other => Some(other),
            };
            if let Some(r) = representative {
                return Some((r, true));
            }
        }
    })
}

/// `normalize(pattern)`.
pub(super) fn normalize(pattern: &str) -> Result<Vec<Form>, NotReversible> {
    let mut it = chars(pattern).peekable();
    let mut result: Vec<Elt> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut positional = 0;
    while let Some((c, escaped)) = it.next() {
        if escaped {
            result.push(Elt::Char(c));
            continue;
        }
        match c {
            '|' => return Ok(vec![Form::default()]),
            '^' => {}
            '$' => break,
            ')' => {
                let start = open.pop().ok_or(NotReversible)?;
                let inner = result.split_off(start);
                result.push(Elt::NonCapture(inner));
            }
            '[' => {
                let (first, _) = it.next().ok_or(NotReversible)?;
                result.push(Elt::Char(first));
                // Skip to the closing ']', which may not be escaped.
                loop {
                    match it.next() {
                        Some((']', false)) => break,
                        Some(_) => {}
                        None => return Err(NotReversible),
                    }
                }
            }
            '(' => {
                let (next, next_escaped) = it.next().ok_or(NotReversible)?;
                if next != '?' || next_escaped {
                    let name = format!("_{positional}");
                    positional += 1;
                    result.push(Elt::Group {
                        name: name.clone(),
                        param: Some(name),
                    });
                    walk_to_end(next, &mut it);
                    continue;
                }
                let (kind, _) = it.next().ok_or(NotReversible)?;
                match kind {
                    // Look-arounds are ignored.
                    '!' | '=' | '<' => walk_to_end(kind, &mut it),
                    ':' => open.push(result.len()),
                    'P' => {
                        let (opener, _) = it.next().ok_or(NotReversible)?;
                        let terminal = match opener {
                            '<' => '>',
                            '=' => ')',
                            _ => return Err(NotReversible),
                        };
                        let mut name = String::new();
                        loop {
                            match it.next() {
                                Some((c, _)) if c == terminal => break,
                                Some((c, _)) => name.push(c),
                                None => return Err(NotReversible),
                            }
                        }
                        if terminal == '>' {
                            result.push(Elt::Group {
                                name: name.clone(),
                                param: Some(name),
                            });
                            walk_to_end('>', &mut it);
                        } else {
                            result.push(Elt::Group { name, param: None });
                        }
                    }
                    _ => return Err(NotReversible),
                }
            }
            '*' | '?' | '+' | '{' => {
                let min = quantifier(c, &mut it)?;
                let last = result.pop().ok_or(NotReversible)?;
                if min == 0 {
                    if contains_group(&last) {
                        result.push(Elt::Optional(Box::new(last)));
                    }
                } else {
                    for _ in 0..min {
                        result.push(last.clone());
                    }
                }
            }
            other => result.push(Elt::Char(other)),
        }
    }
    Ok(flatten(&result))
}

/// Skips to the end of the group just opened; `first` is the character
/// already read after `(`.
fn walk_to_end(first: char, it: &mut impl Iterator<Item = (char, bool)>) {
    let mut nesting = usize::from(first == '(');
    for (c, escaped) in it {
        match c {
            _ if escaped => {}
            '(' => nesting += 1,
            ')' if nesting == 0 => return,
            ')' => nesting -= 1,
            _ => {}
        }
    }
}

/// The minimum count of a quantifier starting with `c`; a lazy `?` after
/// it is consumed.
fn quantifier(
    c: char,
    it: &mut std::iter::Peekable<impl Iterator<Item = (char, bool)>>,
) -> Result<usize, NotReversible> {
    let min = if c == '{' {
        let mut text = String::new();
        loop {
            match it.next() {
                Some(('}', _)) => break,
                Some((c, _)) => text.push(c),
                None => return Err(NotReversible),
            }
        }
        let low = text.split(',').next().unwrap_or("");
        low.parse().map_err(|_| NotReversible)?
    } else {
        usize::from(c == '+')
    };
    if it.peek().is_some_and(|(c, _)| *c == '?') {
        it.next();
    }
    Ok(min)
}

fn contains_group(elt: &Elt) -> bool {
    match elt {
        Elt::Group { .. } => true,
        Elt::NonCapture(inner) => inner.iter().any(contains_group),
        Elt::Char(_) | Elt::Optional(_) => false,
    }
}

/// `flatten_result`: every combination of the optional parts, in order
/// (without before with).
fn flatten(elts: &[Elt]) -> Vec<Form> {
    let mut forms = vec![Form::default()];
    for elt in elts {
        match elt {
            Elt::Char(c) => {
                for form in &mut forms {
                    match form.pieces.last_mut() {
                        Some(Piece::Text(text)) => text.push(*c),
                        _ => form.pieces.push(Piece::Text(c.to_string())),
                    }
                }
            }
            Elt::Group { name, param } => {
                for form in &mut forms {
                    form.pieces.push(Piece::Param(name.clone()));
                    form.params
                        .extend(param.iter().filter(|p| !p.is_empty()).cloned());
                }
            }
            Elt::Optional(inner) => {
                let mut variants = vec![Form::default()];
                variants.extend(flatten(std::slice::from_ref(inner)));
                forms = product(&forms, &variants);
            }
            Elt::NonCapture(inner) => forms = product(&forms, &flatten(inner)),
        }
    }
    forms
}

fn product(prefixes: &[Form], suffixes: &[Form]) -> Vec<Form> {
    let mut out = Vec::with_capacity(prefixes.len() * suffixes.len());
    for prefix in prefixes {
        for suffix in suffixes {
            let mut form = prefix.clone();
            for piece in &suffix.pieces {
                match (form.pieces.last_mut(), piece) {
                    (Some(Piece::Text(text)), Piece::Text(more)) => text.push_str(more),
                    _ => form.pieces.push(piece.clone()),
                }
            }
            form.params.extend(suffix.params.iter().cloned());
            out.push(form);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A form as Django writes it, `%(name)s` for a parameter.
    fn django(forms: &[Form]) -> Vec<(String, Vec<String>)> {
        forms
            .iter()
            .map(|f| {
                let text = f
                    .pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => t.clone(),
                        Piece::Param(n) => format!("%({n})s"),
                    })
                    .collect();
                (text, f.params.clone())
            })
            .collect()
    }

    fn n(pattern: &str) -> Vec<(String, Vec<String>)> {
        django(&normalize(pattern).unwrap())
    }

    fn one(text: &str, params: &[&str]) -> (String, Vec<String>) {
        (
            text.to_owned(),
            params.iter().map(|p| (*p).to_owned()).collect(),
        )
    }

    // Expected values are what Django 5.2's
    // `django.utils.regex_helper.normalize` returns for each pattern.
    #[test]
    fn djangos_normalize_cases() {
        assert_eq!(
            n(r"^(?P<first_group_name>.*)-(?P<second_group_name>.*)$"),
            [one(
                "%(first_group_name)s-%(second_group_name)s",
                &["first_group_name", "second_group_name"]
            )]
        );
        assert_eq!(n(r"^(?:non-capturing)"), [one("non-capturing", &[])]);
        assert_eq!(n(r"(?=positive-lookahead)"), [one("", &[])]);
        assert_eq!(n(r"(?<=positive-lookbehind)"), [one("", &[])]);
        assert_eq!(
            n(r"^(?P<name>.*)(?:\.(?P<format>json|xml))?$"),
            [
                one("%(name)s", &["name"]),
                one("%(name)s.%(format)s", &["name", "format"]),
            ]
        );
        // The outer `?` drops the whole group: Django's `contains` does not
        // look inside the optional part it holds.
        assert_eq!(n(r"^(?:a(?P<x>b)?)?c$"), [one("c", &[])]);
    }

    #[test]
    fn classes_quantifiers_escapes_and_alternation() {
        assert_eq!(n(r"^articles/[0-9]{4}/$"), [one("articles/0000/", &[])]);
        assert_eq!(n(r"^x[^/]+y$"), [one("x^y", &[])]);
        assert_eq!(n(r"^a\d\w\s\W\.b?c*\Z"), [one("a0x !.", &[])]);
        assert_eq!(n(r"^(\d+)/(\d+)/$"), [one("%(_0)s/%(_1)s/", &["_0", "_1"])]);
        assert_eq!(n(r"^(?P<a>x){2}$"), [one("%(a)s%(a)s", &["a", "a"])]);
        assert_eq!(n(r"^(?P<a>x)/(?P=a)$"), [one("%(a)s/%(a)s", &["a"])]);
        assert_eq!(n(r"^a|b$"), [one("", &[])]);
        assert_eq!(n(r"^(?:a|b)$"), [one("", &[])]);
        assert_eq!(n(""), [one("", &[])]);
        assert!(normalize(r"^(?#comment)x$").is_err());
    }
}
