//! Replays every file of every `corpus/<target>/` directory through its target on stable.
//!
//! Fails when a target's corpus directory is missing or empty, or when a file's input
//! panics (the panic message names the file).

use std::path::Path;

#[test]
fn corpus_replays_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut total = 0;
    for (name, target) in s3_fuzz::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()));
        let mut files: Vec<_> = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        files.retain(|p| p.is_file());
        files.sort();
        assert!(!files.is_empty(), "corpus {} is empty", dir.display());
        for file in &files {
            let data =
                std::fs::read(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", file.display());
        }
        total += files.len();
    }
    assert!(total > 0);
}

#[test]
fn every_target_has_a_libfuzzer_wrapper() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in s3_fuzz::TARGETS {
        let wrapper = root.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&wrapper)
            .unwrap_or_else(|e| panic!("{}: {e}", wrapper.display()));
        assert!(
            text.contains(&format!("s3_fuzz::{name}(")),
            "{}",
            wrapper.display()
        );
    }
}
