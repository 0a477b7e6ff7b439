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
    /// A caller-supplied argument is out of range (layer, channel, class, parameter).
    InvalidArgument { reason: String },
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
    pub fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
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
            Error::InvalidArgument { reason } => write!(f, "invalid argument: {reason}"),
            Error::NonFinite { context } => write!(f, "non-finite value (NaN or infinity) in {context}"),
            Error::Io { path, reason } => write!(f, "cannot access {path}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// The core's result type.
pub type Result<T> = std::result::Result<T, Error>;
