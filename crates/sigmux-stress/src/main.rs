//! sigmux stress program (being written).
fn main() {}
