//! UniFFI's bindings generator, built from this workspace so the generator's version
//! always matches the `uniffi` the library was built with. Used in library mode by
//! `bindings/generate`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
