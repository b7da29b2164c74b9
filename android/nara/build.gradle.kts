// The `nara` Android library: the UniFFI-generated Kotlin (generated into the build
// folder by `bindings/generate`, never committed), the idiomatic facade in
// src/main/kotlin/se/nara, and the native libraries in src/main/jniLibs (built by
// ../build-native.sh with cargo-ndk).
import javax.inject.Inject

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

/** The repository root: the Cargo workspace that holds `bindings/`. */
val repoRoot: File = rootDir.parentFile

/**
 * Runs `bindings/generate` (builds the host library and writes the Kotlin and Swift
 * sources to target/bindings) and syncs the Kotlin into [outputDir].
 *
 * Cargo is incremental, so running it on every build costs little when nothing changed.
 */
abstract class GenerateNaraBindings : DefaultTask() {
    @get:Internal
    abstract val repoRoot: DirectoryProperty

    @get:OutputDirectory
    abstract val outputDir: DirectoryProperty

    @get:Inject
    abstract val execOps: ExecOperations

    @get:Inject
    abstract val fsOps: FileSystemOperations

    @TaskAction
    fun generate() {
        val root = repoRoot.get().asFile
        execOps.exec {
            workingDir = root
            // Without the test hooks: the apps' libraries must not export debugPanic, and
            // the generated Kotlin checks at load time that every function it names exists.
            commandLine(root.resolve("bindings/generate").path, "--release")
        }
        fsOps.sync {
            from(root.resolve("target/bindings/kotlin"))
            into(outputDir)
        }
    }
}

val generateNaraBindings = tasks.register<GenerateNaraBindings>("generateNaraBindings") {
    group = "nara"
    description = "Generates the UniFFI Kotlin bindings into the build folder."
    repoRoot.set(rootDir.parentFile)
    outputDir.set(layout.buildDirectory.dir("generated/source/uniffi/kotlin"))
    outputs.upToDateWhen { false }
}

val buildNativeLibs = tasks.register<Exec>("buildNativeLibs") {
    group = "nara"
    description = "Builds libnara_ffi.so for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk."
    workingDir = rootDir
    commandLine(rootDir.resolve("build-native.sh").path, "--libs-only")
    onlyIf { providers.gradleProperty("nara.buildNative").getOrElse("true").toBoolean() }
}

android {
    namespace = "se.nara"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

androidComponents {
    onVariants { variant ->
        // The Kotlin plugin compiles .kt files found in Java source directories too.
        variant.sources.java?.addGeneratedSourceDirectory(
            generateNaraBindings,
            GenerateNaraBindings::outputDir,
        )
    }
}

tasks.named("preBuild") { dependsOn(buildNativeLibs) }

dependencies {
    // The generated bindings load libnara_ffi.so through JNA; the AAR carries its own
    // libjnidispatch.so for every ABI.
    api(libs.jna) { artifact { type = "aar" } }
    api(libs.kotlinx.coroutines.android)
    implementation(libs.androidx.work.runtime.ktx)
    // Custom Tabs for the region's login page (CustomTabsAuthBrowser).
    implementation(libs.androidx.browser)
}
