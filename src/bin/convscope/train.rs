//! `convscope train` (being written).
use convscope::{Error, Result};

pub fn run(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("`convscope train` is not available yet"))
}
