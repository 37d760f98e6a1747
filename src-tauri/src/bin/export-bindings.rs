//! Writes `ui/src/bindings.ts`: the TypeScript types of every command and event of the app,
//! generated from the Rust types (`cargo run -p seahorse-app --bin export-bindings`).

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    if let Err(e) = seahorse_app::export_bindings(&path) {
        eprintln!("export-bindings: {e}");
        std::process::exit(1);
    }
    println!("{}", path.display());
}
