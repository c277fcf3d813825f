//! Cross-crate scenarios live in `tests/`; this library only compiles the
//! README's embedding example as a doctest so it can never go stale.
#![doc = include_str!("../../README.md")]
