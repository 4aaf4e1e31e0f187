//! Why a route table does not compile, worded as Django words it.

use super::pyfmt::py_repr;

/// Why [`Router::new`](super::Router::new) rejected a route table. Every
/// variant starts with `at`, the position of the offending entry
/// (`routes[1].include[0]`); the rest of the message is Django's own where
/// Django has one, with `%r` values quoted as Python's `repr` quotes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A `<converter:name>` names a converter Django does not have.
    #[error("{at}: URL route {} uses invalid converter {}.", py_repr(.route), py_repr(.converter))]
    InvalidConverter {
        /// Position of the route in the table.
        at: String,
        /// The route as written.
        route: String,
        /// The unknown converter name.
        converter: String,
    },
    /// A parameter name is not a Python identifier, so it could not be a
    /// keyword argument of a view.
    #[error(
        "{at}: URL route {} uses parameter name {} which isn't a valid Python identifier.",
        py_repr(.route),
        py_repr(.parameter)
    )]
    InvalidParameterName {
        /// Position of the route in the table.
        at: String,
        /// The route as written.
        route: String,
        /// The offending parameter name.
        parameter: String,
    },
    /// Whitespace inside `<...>`, which Django refuses rather than guess.
    #[error("{at}: URL route {} cannot contain whitespace in angle brackets <…>.", py_repr(.route))]
    WhitespaceInAngleBrackets {
        /// Position of the route in the table.
        at: String,
        /// The route as written.
        route: String,
    },
    /// The same parameter twice in one route. Django has no message of its
    /// own for this: Python's `re` fails on the repeated group name.
    #[error("{at}: URL route {} uses parameter name {} more than once.", py_repr(.route), py_repr(.parameter))]
    DuplicateParameter {
        /// Position of the route in the table.
        at: String,
        /// The route as written.
        route: String,
        /// The repeated parameter name.
        parameter: String,
    },
    /// A '<' or '>' without its partner: Django's check warning `urls.W010`,
    /// an error here because such a route never matches what its author meant.
    #[error("{at}: Your URL pattern {} has an unmatched '{bracket}' bracket.", describe(.route, .name.as_deref()))]
    UnmatchedBracket {
        /// Position of the route in the table.
        at: String,
        /// The route as written.
        route: String,
        /// The endpoint's name, which Django shows in the message.
        name: Option<String>,
        /// The bracket left unmatched: the first stray '>', else '<'.
        bracket: char,
    },
    /// A `re_path` regex that does not compile; the reason is the regex
    /// crate's, which also rejects Python-only syntax such as look-arounds.
    #[error("{at}: \"{regex}\" is not a valid regular expression: {reason}")]
    InvalidRegex {
        /// Position of the route in the table.
        at: String,
        /// The regex as written.
        regex: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Django's `CheckURLMixin.describe`: plain quotes, not `repr`.
fn describe(route: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("'{route}' [name='{name}']"),
        None => format!("'{route}'"),
    }
}

impl RouteError {
    /// Position of the offending entry in the route table (`routes[1].include[0]`).
    pub fn at(&self) -> &str {
        match self {
            RouteError::InvalidConverter { at, .. }
            | RouteError::InvalidParameterName { at, .. }
            | RouteError::WhitespaceInAngleBrackets { at, .. }
            | RouteError::DuplicateParameter { at, .. }
            | RouteError::UnmatchedBracket { at, .. }
            | RouteError::InvalidRegex { at, .. } => at,
        }
    }

    /// The message without the position prefix.
    pub fn detail(&self) -> String {
        let full = self.to_string();
        full.strip_prefix(&format!("{}: ", self.at()))
            .unwrap_or(&full)
            .to_owned()
    }
}
