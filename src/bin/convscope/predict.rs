//! `convscope predict`, `eval` and `activations`.
use convscope::{Error, Result};

pub fn predict(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("not available yet"))
}
pub fn eval(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("not available yet"))
}
pub fn activations(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("not available yet"))
}
