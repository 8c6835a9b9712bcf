//! sigmux benchmarks (being written).
fn main() {}
