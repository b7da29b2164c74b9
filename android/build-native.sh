#!/usr/bin/env bash
# Builds libnara_ffi.so for the Android ABIs into nara/src/main/jniLibs/<abi>/ and
# generates the Kotlin bindings (target/bindings/kotlin; Gradle copies them into the
# build folder).
#
#   ./build-native.sh              # libraries and bindings
#   ./build-native.sh --libs-only  # libraries only (what Gradle's buildNativeLibs runs)
#
# Needs, on the build machine (not available in Nära's CI container, so this script is
# not run there):
#   - the Android NDK: ANDROID_NDK_HOME (or ANDROID_NDK_ROOT, or $ANDROID_HOME/ndk/<version>),
#   - cargo-ndk: `cargo install cargo-ndk`,
#   - the Rust targets (added below with rustup when missing).
# The libraries use the `release-small` profile (size-optimised, LTO, stripped) and are
# built without the test-hooks feature, as a cdylib alone: with the rlib crate type of
# Cargo.toml in the same build the library is about 1.4 MB larger (docs/benchmarks.md,
# "Library size"; scripts/ffi-size builds it the same way).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
libs_only=false
case "${1:-}" in
    --libs-only) libs_only=true ;;
    "") ;;
    *) echo "usage: $0 [--libs-only]" >&2; exit 2 ;;
esac

if ! cargo ndk --version >/dev/null 2>&1; then
    echo "cargo-ndk is missing: cargo install cargo-ndk" >&2
    exit 1
fi
if [[ -z "${ANDROID_NDK_HOME:-}${ANDROID_NDK_ROOT:-}" && ! -d "${ANDROID_HOME:-/nonexistent}/ndk" ]]; then
    echo "no Android NDK found: set ANDROID_NDK_HOME (Android Studio: SDK Manager > SDK Tools > NDK)" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
    installed="$(rustup target list --installed)"
    for t in "${targets[@]}"; do
        grep -qx "$t" <<<"$installed" || rustup target add "$t"
    done
fi

cd "$HERE"
cargo ndk --manifest-path "$ROOT/Cargo.toml" \
    -t arm64-v8a -t armeabi-v7a -t x86_64 -o nara/src/main/jniLibs \
    rustc --profile release-small -p nara-ffi --lib --crate-type cdylib

if ! $libs_only; then
    # The Kotlin is generated from a host build of the same crate and features; the
    # exported API does not depend on the target.
    "$ROOT/bindings/generate" --release
fi
