// The migrations are embedded at compile time (`embed_migrations!`): a new or edited
// migration must rebuild this crate, which cargo does not know by itself.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
