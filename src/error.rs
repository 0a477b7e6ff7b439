//! The one error type of the core. Every message says what was wrong, what was expected and, where it helps,
//! what to do next. The CLI prints it as one line; the bindings turn it into a JS `Error`.

use std::fmt;

/// Everything that can go wrong in convscope's core on bad input.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A tensor or buffer had the wrong shape.
    ShapeMismatch {
        tensor: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// A weights file is not valid safetensors, or does not fit the manifest.
    BadWeights { reason: String },
    /// A manifest is not valid JSON or describes an impossible network.
    BadManifest { reason: String },
    /// An image could not be decoded or is unusable (empty, zero-sized, ...).
    BadImage { reason: String },
    /// An IDX data file is malformed.
    BadIdx { reason: String },
    /// A monitor file is malformed or does not fit the model.
    BadMonitor { reason: String },
    /// A caller-supplied number lies outside what is allowed (a channel, class, index, step count, size...).
    OutOfRange {
        what: String,
        value: String,
        allowed: String,
    },
    /// A name that is not one of the known ones (a layer, technique, colormap, command...).
    Unknown {
        what: String,
        name: String,
        known: Vec<String>,
    },
    /// An option is missing, does not apply, conflicts with another, or its value cannot be read.
    BadOption { option: String, reason: String },
    /// A bug in convscope, not in the input (an invariant the code itself maintains was broken).
    Internal { reason: String },
    /// A numeric computation produced a non-finite value (for instance, NaN weights or a diverging step size).
    NonFinite { context: String },
    /// Reading or writing a file failed.
    Io { path: String, reason: String },
}

impl Error {
    pub fn weights(reason: impl Into<String>) -> Self {
        Error::BadWeights {
            reason: reason.into(),
        }
    }
    pub fn manifest(reason: impl Into<String>) -> Self {
        Error::BadManifest {
            reason: reason.into(),
        }
    }
    pub fn image(reason: impl Into<String>) -> Self {
        Error::BadImage {
            reason: reason.into(),
        }
    }
    pub fn idx(reason: impl Into<String>) -> Self {
        Error::BadIdx {
            reason: reason.into(),
        }
    }
    pub fn monitor(reason: impl Into<String>) -> Self {
        Error::BadMonitor {
            reason: reason.into(),
        }
    }
    /// `what` = `value` is outside `allowed` (e.g. `("channel of conv2", 20, "0 to 15")`).
    pub fn out_of_range(
        what: impl Into<String>,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Error::OutOfRange {
            what: what.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
    /// `name` is no known `what`; `known` lists the names that are (may be empty when there are too many).
    pub fn unknown<S: AsRef<str>>(
        what: impl Into<String>,
        name: impl Into<String>,
        known: &[S],
    ) -> Self {
        Error::Unknown {
            what: what.into(),
            name: name.into(),
            known: known.iter().map(|k| k.as_ref().to_string()).collect(),
        }
    }
    /// Option `option` (a CLI flag or JS key, without dashes) is wrong for `reason`.
    pub fn option(option: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadOption {
            option: option.into(),
            reason: reason.into(),
        }
    }
    /// A broken invariant of convscope's own code: a bug to report, never the user's input.
    pub fn internal(reason: impl Into<String>) -> Self {
        Error::Internal {
            reason: reason.into(),
        }
    }
    pub fn non_finite(context: impl Into<String>) -> Self {
        Error::NonFinite {
            context: context.into(),
        }
    }
    pub fn io(path: impl Into<String>, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            reason: err.to_string(),
        }
    }
    pub fn shape(tensor: impl Into<String>, expected: &[usize], got: &[usize]) -> Self {
        Error::ShapeMismatch {
            tensor: tensor.into(),
            expected: expected.to_vec(),
            got: got.to_vec(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch {
                tensor,
                expected,
                got,
            } => write!(
                f,
                "shape mismatch for {tensor}: expected {expected:?}, got {got:?}"
            ),
            Error::BadWeights { reason } => write!(
                f,
                "bad weights file: {reason} (export with safetensors.torch.save_file(model.state_dict(), path) or `convscope train`)"
            ),
            Error::BadManifest { reason } => write!(f, "bad model manifest: {reason}"),
            Error::BadImage { reason } => write!(f, "bad image: {reason}"),
            Error::BadIdx { reason } => write!(f, "bad IDX file: {reason}"),
            Error::BadMonitor { reason } => write!(
                f,
                "bad monitor file: {reason} (rebuild it with `convscope monitor build`)"
            ),
            Error::OutOfRange {
                what,
                value,
                allowed,
            } => write!(f, "{what} {value} is out of range (allowed: {allowed})"),
            Error::Unknown { what, name, known } if known.is_empty() => {
                write!(f, "unknown {what} {name:?}")
            }
            Error::Unknown { what, name, known } => {
                write!(f, "unknown {what} {name:?} (known: {})", known.join(", "))
            }
            Error::BadOption { option, reason } => write!(f, "option {option}: {reason}"),
            Error::Internal { reason } => write!(
                f,
                "internal error (a bug in convscope, please report it): {reason}"
            ),
            Error::NonFinite { context } => write!(f, "non-finite value (NaN or infinity) in {context}"),
            Error::Io { path, reason } => write!(f, "cannot access {path}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// The core's result type.
pub type Result<T> = std::result::Result<T, Error>;
