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
    #[error("{}:{line}:{column}: {field}: {message}", file.display())]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column of the offending value.
        column: usize,
        /// Dotted path of the field (`middleware[1].component`).
        field: String,
        /// What is wrong.
        message: String,
    },
}
