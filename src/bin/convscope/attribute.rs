//! `convscope attribute` (being written).
use convscope::{Error, Result};

pub fn run(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("`convscope attribute` is not available yet"))
}
