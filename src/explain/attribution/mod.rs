//! Attribution methods (being written).
