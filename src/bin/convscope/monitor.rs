//! `convscope monitor` (being written).
use convscope::{Error, Result};

pub fn run(_argv: &[String]) -> Result<()> {
    Err(Error::invalid("`convscope monitor` is not available yet"))
}
