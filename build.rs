//! The built-in flows and content are embedded in the binary (`include_dir!`), which cargo
//! does not track by itself: rebuild when anything in those folders changes.
fn main() {
    println!("cargo:rerun-if-changed=flows");
    println!("cargo:rerun-if-changed=content");
}
