//! `path()` routes: Django's `_route_to_regex`, its converters, and the
//! `check` for unmatched angle brackets, promoted from a warning to an error.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::error::RouteError;
use super::pyfmt::{is_identifier, re_escape};

/// Django's `_PATH_PARAMETER_COMPONENT_RE`, kept verbatim so that odd routes
/// such as `<a:b:c>` or `<:x>` split into the same converter and parameter.
static PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
        .expect("Django's parameter regex is valid")
});

/// Python's `string.whitespace`.
const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r', '\x0b', '\x0c'];

/// Django's built-in path converters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Converter {
    Int,
    Str,
    Slug,
    Uuid,
    Path,
}

impl Converter {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "int" => Converter::Int,
            "str" => Converter::Str,
            "slug" => Converter::Slug,
            "uuid" => Converter::Uuid,
            "path" => Converter::Path,
            _ => return None,
        })
    }

    fn regex(self) -> &'static str {
        match self {
            Converter::Int => "[0-9]+",
            Converter::Str => "[^/]+",
            Converter::Slug => "[-a-zA-Z0-9_]+",
            Converter::Uuid => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            Converter::Path => ".+",
        }
    }

    /// The kwarg value as the view would print it after Django's
    /// `to_python`: `int()` has no size limit, so only leading zeros go.
    /// The uuid regex only admits `str(uuid.UUID(value))`, so it stays as is.
    pub(super) fn to_python(self, value: &str) -> String {
        match self {
            Converter::Int => {
                let digits = value.trim_start_matches('0');
                if digits.is_empty() { "0" } else { digits }.to_owned()
            }
            Converter::Str | Converter::Slug | Converter::Uuid | Converter::Path => {
                value.to_owned()
            }
        }
    }
}

/// A `path()` route turned into a regex.
#[derive(Debug)]
pub(super) struct ParsedRoute {
    /// Anchored at the start; at the end too for endpoints. Capture group
    /// `i + 1` is `params[i]`.
    pub(super) regex: String,
    pub(super) params: Vec<(String, Converter)>,
    /// The regex as Django writes it (`^items/(?P<id>[0-9]+)/\\Z`): what
    /// `reverse()` fills in and names in its errors.
    pub(super) python: String,
}

/// `_route_to_regex(route, is_endpoint)`, reporting its errors in the order
/// Django meets them: per parameter (whitespace, identifier, converter),
/// then duplicate names (Python's `re.compile`), then brackets (`check`).
pub(super) fn parse(
    route: &str,
    name: Option<&str>,
    is_endpoint: bool,
    at: &str,
) -> Result<ParsedRoute, RouteError> {
    let mut regex = String::from("^");
    let mut python = String::from("^");
    let mut params: Vec<(String, Converter)> = Vec::new();
    let mut previous_end = 0;
    for caps in PARAMETER.captures_iter(route) {
        let whole = caps.get(0).expect("group 0 always participates");
        if whole.as_str().contains(WHITESPACE) {
            return Err(RouteError::WhitespaceInAngleBrackets {
                at: at.to_owned(),
                route: route.to_owned(),
            });
        }
        let parameter = &caps["parameter"];
        if !is_identifier(parameter) {
            return Err(RouteError::InvalidParameterName {
                at: at.to_owned(),
                route: route.to_owned(),
                parameter: parameter.to_owned(),
            });
        }
        let raw_converter = caps.name("converter").map_or("str", |m| m.as_str());
        let converter =
            Converter::from_name(raw_converter).ok_or_else(|| RouteError::InvalidConverter {
                at: at.to_owned(),
                route: route.to_owned(),
                converter: raw_converter.to_owned(),
            })?;
        regex.push_str(&regex::escape(&route[previous_end..whole.start()]));
        regex.push('(');
        regex.push_str(converter.regex());
        regex.push(')');
        python.push_str(&re_escape(&route[previous_end..whole.start()]));
        python.push_str(&format!("(?P<{parameter}>{})", converter.regex()));
        previous_end = whole.end();
        params.push((parameter.to_owned(), converter));
    }
    regex.push_str(&regex::escape(&route[previous_end..]));
    python.push_str(&re_escape(&route[previous_end..]));
    if is_endpoint {
        regex.push_str(r"\z");
        python.push_str(r"\Z");
    }

    let mut seen = HashSet::new();
    if let Some((parameter, _)) = params.iter().find(|(p, _)| !seen.insert(p.as_str())) {
        return Err(RouteError::DuplicateParameter {
            at: at.to_owned(),
            route: route.to_owned(),
            parameter: parameter.clone(),
        });
    }

    if let Some(bracket) = unmatched_bracket(route) {
        return Err(RouteError::UnmatchedBracket {
            at: at.to_owned(),
            route: route.to_owned(),
            name: name.map(str::to_owned),
            bracket,
        });
    }
    Ok(ParsedRoute {
        regex,
        params,
        python,
    })
}

/// `_check_pattern_unmatched_angle_brackets`, reduced to its first warning:
/// a '>' closing nothing is reported as it is met, a '<' left open at the end.
fn unmatched_bracket(route: &str) -> Option<char> {
    let mut open = 0usize;
    for c in route.chars() {
        match c {
            '<' => open += 1,
            '>' if open == 0 => return Some('>'),
            '>' => open -= 1,
            _ => {}
        }
    }
    (open > 0).then_some('<')
}
