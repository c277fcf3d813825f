//! Rebuilds the crate when a migration is added or changed: the migrations
//! are embedded in the binary (`embed_migrations!`), and cargo does not see
//! the files a macro reads, so an incremental build would ship without them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
