//! Upload benchmark (work in progress).

fn main() {}
