use std::path::PathBuf;

/// A config file that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file was read but is not a valid config.
    #[error("{}:{line}:{column}: {}{message}", file.display(), prefix(field))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column of the offending value.
        column: usize,
        /// Dotted path of the field (`middleware[1].component`); empty for a
        /// syntax error.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// `field: `, or nothing for errors not tied to a field (TOML syntax).
fn prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}
