#!/usr/bin/env bash
# Builds ios/NaraFFI.xcframework (static libnara_ffi.a for iOS devices and the
# simulator, with the C header and the `naraFFI` module map) and copies the matching
# UniFFI-generated Swift into ios/Sources/Nara/Generated/. Both are build outputs and are
# not committed.
#
# Needs macOS with Xcode 16+ (xcodebuild, lipo) and rustup; it cannot run on Linux.
# The Linux CI checks the same Swift (bindings + platform-neutral facade) with
# tests/bindings/swift/run instead.
#
#   ios/build-xcframework.sh            # release-small (size-optimised, stripped)
#   PROFILE=release ios/build-xcframework.sh
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$PWD"
PROFILE="${PROFILE:-release-small}"
OUT="$REPO/ios/build"
XCF="$REPO/ios/NaraFFI.xcframework"
GENERATED="$REPO/ios/Sources/Nara/Generated"
DEVICE=aarch64-apple-ios
SIMS=(aarch64-apple-ios-sim x86_64-apple-ios)

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }
command -v xcodebuild >/dev/null || { echo "xcodebuild not found: install Xcode" >&2; exit 1; }

# The minimum iOS version the Rust objects are built for; keep in step with Package.swift.
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-16.0}"

echo "== Rust targets"
rustup target add "$DEVICE" "${SIMS[@]}"

echo "== cargo rustc --profile $PROFILE -p nara-ffi --crate-type cdylib,staticlib"
for target in "$DEVICE" "${SIMS[@]}"; do
    # No test-hooks: the app library never contains the debug exports. Without the rlib
    # crate type of Cargo.toml (it keeps every Rust-level symbol through LTO; see
    # docs/benchmarks.md, "Library size"); the same crate types as
    # `bindings/generate --release`, so that run below reuses this build.
    cargo rustc --locked --profile "$PROFILE" -p nara-ffi --lib --target "$target" \
        --crate-type cdylib,staticlib
done
lib_of() { echo "$REPO/target/$1/$PROFILE/libnara_ffi.a"; }

echo "== Swift bindings (bindings/generate, from the device library itself)"
rm -rf "$OUT"
mkdir -p "$OUT/headers/naraFFI" "$OUT/sim"
# Library mode reads the interface from the metadata in the library, so the Swift always
# matches the exact library in the framework (same features: no test hooks).
"$REPO/bindings/generate" --release --target "$DEVICE" >/dev/null
GEN="$REPO/target/bindings/swift"
for f in nara.swift naraFFI.h naraFFI.modulemap; do
    [ -f "$GEN/$f" ] || { echo "bindings/generate did not write $f" >&2; exit 1; }
done
# The header and module map go in a subdirectory named after the module: an app with
# several XCFrameworks would otherwise get clashing `module.modulemap` files in one
# include directory. Clang finds `<include dir>/naraFFI/module.modulemap` for
# `import naraFFI`.
cp "$GEN/naraFFI.h" "$OUT/headers/naraFFI/naraFFI.h"
cp "$GEN/naraFFI.modulemap" "$OUT/headers/naraFFI/module.modulemap"

echo "== lipo (simulator: arm64 + x86_64)"
sim_libs=()
for target in "${SIMS[@]}"; do sim_libs+=("$(lib_of "$target")"); done
lipo -create "${sim_libs[@]}" -output "$OUT/sim/libnara_ffi.a"

echo "== xcodebuild -create-xcframework"
rm -rf "$XCF"
xcodebuild -create-xcframework \
    -library "$(lib_of "$DEVICE")" -headers "$OUT/headers" \
    -library "$OUT/sim/libnara_ffi.a" -headers "$OUT/headers" \
    -output "$XCF"

echo "== generated Swift -> ios/Sources/Nara/Generated"
rm -rf "$GENERATED"
mkdir -p "$GENERATED"
cp "$GEN/nara.swift" "$GENERATED/nara.swift"

size=$(stat -f %z "$(lib_of "$DEVICE")")
echo "done: $XCF (device archive $((size / 1024)) KiB before app linking and dead-code stripping)"
