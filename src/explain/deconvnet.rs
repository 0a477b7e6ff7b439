//! The Zeiler & Fergus deconvnet (being written).
