//! The README's Kotlin and Swift examples are the code the binding tests run: each fenced
//! block must appear verbatim in its example file, so the two cannot drift apart.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
}

fn fenced(readme: &str, language: &str) -> Vec<String> {
    let open = format!("```{language}\n");
    let mut blocks = Vec::new();
    let mut rest = readme;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let end = body.find("```").expect("every fence is closed");
        blocks.push(body[..end].to_owned());
        rest = &body[end..];
    }
    blocks
}

fn check(language: &str, example: &str) {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let source = std::fs::read_to_string(root().join(example)).expect("example file");
    let blocks = fenced(&readme, language);
    assert_eq!(blocks.len(), 1, "one {language} example in the README");
    let block = &blocks[0];
    assert!(
        source.contains(block.as_str()),
        "the README's {language} example differs from {example}"
    );
    let body_lines = block.lines().count().saturating_sub(2);
    assert!(
        body_lines <= 10,
        "{language} example has {body_lines} lines of body"
    );
}

#[test]
fn the_kotlin_example_is_the_tested_code() {
    check("kotlin", "tests/bindings/kotlin/src/ReadmeExample.kt");
}

#[test]
fn the_swift_example_is_the_tested_code() {
    check(
        "swift",
        "tests/bindings/swift/Tests/NaraTests/ReadmeExample.swift",
    );
}
