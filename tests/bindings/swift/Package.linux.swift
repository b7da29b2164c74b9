// swift-tools-version:6.0
// The Linux test package that `tests/bindings/swift/run` assembles in target/swift-bindings:
// the generated C header and bindings, the platform-neutral iOS facade
// (ios/Sources/Nara/Shared) and the XCTest cases. Not usable in place: the run script
// copies the sources next to it. Swift 6 language mode (the tools version's default).
import PackageDescription

let libDir = Context.packageDirectory + "/lib"

let package = Package(
    name: "NaraLinuxTests",
    targets: [
        .systemLibrary(name: "naraFFI", path: "Sources/naraFFI"),
        .target(
            name: "Nara",
            dependencies: ["naraFFI"],
            path: "Sources/Nara",
            linkerSettings: [
                .unsafeFlags(["-L\(libDir)", "-Xlinker", "-rpath", "-Xlinker", libDir])
            ]
        ),
        .testTarget(
            name: "NaraTests",
            dependencies: ["Nara"],
            path: "Tests/NaraTests",
            linkerSettings: [
                .unsafeFlags(["-L\(libDir)", "-Xlinker", "-rpath", "-Xlinker", libDir])
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
