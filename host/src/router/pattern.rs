//! Matching one route's pattern against what is left of the path: Django's
//! `RoutePattern.match` and `RegexPattern.match`.

use regex::{Captures, Regex};

use super::Pattern;
use super::error::RouteError;
use super::route::{self, Converter};

/// What one pattern captured, and where its match ended in the path given.
#[derive(Debug, Default)]
pub(super) struct PatternMatch {
    /// Byte offset just past the match: an include hands the rest on.
    pub(super) end: usize,
    pub(super) args: Vec<String>,
    pub(super) kwargs: Vec<(String, String)>,
}

/// One route's pattern, compiled.
#[derive(Debug)]
pub(super) struct CompiledPattern {
    /// `str(pattern)` in Django: the route or regex exactly as written.
    text: String,
    matcher: Matcher,
    /// Django's `pattern.regex.pattern`, for `reverse()`.
    pub(super) python: String,
    /// The same regex in the regex crate's syntax, for `reverse()`'s check
    /// that a filled-in URL matches.
    pub(super) check: String,
}

#[derive(Debug)]
enum Matcher {
    /// A `path()` route without parameters: Django 6 compares strings
    /// rather than running a regex, which is equivalent and cheaper.
    Literal { is_endpoint: bool },
    /// A `path()` route with parameters; capture group `i + 1` holds
    /// `params[i]`. Groups are unnamed so that any Python identifier is a
    /// valid parameter name, whatever the regex crate allows in group names.
    Route {
        regex: Regex,
        params: Vec<(String, Converter)>,
    },
    /// A `re_path()` route. `full` is set for endpoints whose regex ends
    /// with '$', which Django matches with `fullmatch` instead of `search`.
    Regex {
        search: Regex,
        full: Option<Regex>,
        has_named_groups: bool,
    },
}

impl CompiledPattern {
    /// Compiles `pattern`; `name` only serves Django's wording of errors.
    pub(super) fn new(
        pattern: Pattern,
        name: Option<&str>,
        is_endpoint: bool,
        at: &str,
    ) -> Result<Self, RouteError> {
        let (matcher, python, check) = match &pattern {
            Pattern::Path(text) => {
                let parsed = route::parse(text, name, is_endpoint, at)?;
                let matcher = if parsed.params.is_empty() {
                    Matcher::Literal { is_endpoint }
                } else {
                    Matcher::Route {
                        regex: compile(&parsed.regex, text, at)?,
                        params: parsed.params,
                    }
                };
                (matcher, parsed.python, parsed.regex)
            }
            Pattern::Regex(text) => {
                let translated = translate_python_regex(text);
                let search = compile(&translated, text, at)?;
                let full = if is_endpoint && text.ends_with('$') {
                    Some(compile(&fullmatch_regex(&translated), text, at)?)
                } else {
                    None
                };
                let has_named_groups = search.capture_names().flatten().next().is_some();
                let matcher = Matcher::Regex {
                    search,
                    full,
                    has_named_groups,
                };
                (matcher, text.clone(), translated)
            }
        };
        let text = match pattern {
            Pattern::Path(text) | Pattern::Regex(text) => text,
        };
        Ok(CompiledPattern {
            text,
            matcher,
            python,
            check,
        })
    }

    /// The pattern as written, used to build `ResolverMatch.route`.
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// Matches at the start of `path` (or, for regexes, wherever Django's
    /// `search` would).
    pub(super) fn matches(&self, path: &str) -> Option<PatternMatch> {
        match &self.matcher {
            Matcher::Literal { is_endpoint } => {
                let hit = if *is_endpoint {
                    path == self.text
                } else {
                    path.starts_with(&self.text)
                };
                hit.then(|| PatternMatch {
                    end: self.text.len(),
                    ..PatternMatch::default()
                })
            }
            Matcher::Route { regex, params } => {
                let caps = regex.captures(path)?;
                let kwargs = params
                    .iter()
                    .enumerate()
                    .map(|(i, (name, converter))| {
                        // Every group of a path() route takes part in a match.
                        let value = caps.get(i + 1).map_or("", |m| m.as_str());
                        (name.clone(), converter.to_python(value))
                    })
                    .collect();
                Some(PatternMatch {
                    end: whole_end(&caps),
                    args: Vec::new(),
                    kwargs,
                })
            }
            Matcher::Regex {
                search,
                full,
                has_named_groups,
            } => {
                let caps = full.as_ref().unwrap_or(search).captures(path)?;
                Some(regex_match(search, &caps, *has_named_groups))
            }
        }
    }
}

fn whole_end(caps: &Captures<'_>) -> usize {
    caps.get(0).map_or(0, |m| m.end())
}

/// `RegexPattern.match`: named groups become kwargs and hide unnamed ones;
/// without named groups, every group is positional.
fn regex_match(regex: &Regex, caps: &Captures<'_>, has_named_groups: bool) -> PatternMatch {
    let end = whole_end(caps);
    if has_named_groups {
        let kwargs = regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, name)| {
                // Django drops kwargs whose group did not participate (None).
                let value = caps.get(i)?;
                Some((name?.to_owned(), value.as_str().to_owned()))
            })
            .collect();
        PatternMatch {
            end,
            args: Vec::new(),
            kwargs,
        }
    } else {
        let args = caps
            .iter()
            .skip(1)
            .map(|m| m.map_or_else(String::new, |m| m.as_str().to_owned()))
            .collect();
        PatternMatch {
            end,
            args,
            kwargs: Vec::new(),
        }
    }
}

fn compile(regex: &str, written: &str, at: &str) -> Result<Regex, RouteError> {
    Regex::new(regex).map_err(|err| RouteError::InvalidRegex {
        at: at.to_owned(),
        regex: written.to_owned(),
        reason: regex_error_reason(&err),
    })
}

/// The regex crate's syntax errors draw the pattern with a caret over
/// several lines; a config error reads better with only the closing
/// `error: ...` line.
fn regex_error_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    match text.rfind("error: ") {
        Some(pos) => text[pos + "error: ".len()..].trim().to_owned(),
        None => text.trim().to_owned(),
    }
}

/// Rewrites the Python-only spelling `\Z` (end of string) into the regex
/// crate's `\z`; everything else Django routes commonly use has the same
/// syntax and meaning in both.
fn translate_python_regex(python: &str) -> String {
    let mut out = String::with_capacity(python.len());
    let mut chars = python.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => out.push_str("\\z"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Python's `fullmatch`: the whole string must match, trying every
/// alternative, which a search followed by a length check would not.
fn fullmatch_regex(translated: &str) -> String {
    // In verbose mode a trailing `# comment` would swallow the closing
    // parenthesis; Python only accepts such global flags at the very start.
    let newline = if leading_flags(translated).contains('x') {
        "\n"
    } else {
        ""
    };
    format!("\\A(?:{translated}{newline})\\z")
}

fn leading_flags(regex: &str) -> &str {
    regex
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(')'))
        .map(|(flags, _)| flags)
        .filter(|flags| flags.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap_or("")
}
