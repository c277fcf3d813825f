# Project tasks; each recipe wraps a script under scripts/ so they also work
# without `just`.

set positional-arguments

# List the recipes.
default:
    @just --list

# Build and run the service (release). Env: TUTORBOOK_BIND, RUST_LOG.
run *args:
    scripts/run "$@"

# Run all tests (not benches); args are passed to cargo test, e.g. `just test slot`.
test *args:
    scripts/test "$@"

# Check formatting and run clippy with warnings as errors.
lint:
    scripts/lint

# Run the criterion benchmarks of the domain crate.
bench *args:
    scripts/bench "$@"

# The load harness: booking and browse over HTTP on Postgres and SQLite, with
# the bare-SQL ceiling (docs/performance.md). `just load --smoke` is CI's
# short check. Env: LOAD_DURATION, LOAD_SLOTS, LOAD_CONNECTIONS, LOAD_STORES.
load *args:
    scripts/load "$@"

# Format the whole workspace.
fmt:
    cargo fmt --all
