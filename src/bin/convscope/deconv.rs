//! `convscope deconv` (being written).
use convscope::{Error, Result};

pub fn run(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("`convscope deconv` is not available yet"))
}
